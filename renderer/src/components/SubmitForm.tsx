import type { ReactNode } from 'react';

/** A form that hands its submit to `onSubmit` instead of reloading the page (Enter submits too). */
export function SubmitForm({ className, testId, onSubmit, children }: { readonly className: string; readonly testId?: string; readonly onSubmit: () => Promise<unknown>; readonly children: ReactNode }) {
  return (
    <form
      className={className}
      data-testid={testId}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}
