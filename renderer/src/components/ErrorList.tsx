/** Validation problems under a field, each on its own line. */
export function Problems({ problems, testId }: { readonly problems: readonly string[]; readonly testId: string }) {
  if (problems.length === 0) return null;
  return (
    <ul className="problems" data-testid={testId} role="alert">
      {problems.map((p, i) => (
        <li key={i}>{p}</li>
      ))}
    </ul>
  );
}
