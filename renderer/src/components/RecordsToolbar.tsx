/** One drop-down narrowing the records to one value of a column; '' keeps every value. */
export interface RecordsChoice {
  readonly label: string;
  readonly testId: string;
  /** what '' reads as: "every actor" */
  readonly every: string;
  readonly values: readonly string[];
  readonly value: string;
  readonly onChange: (value: string) => void;
}

/**
 * The search, drop-downs, count and CSV export above a screen of records (History, Audit): the count
 * and the export follow what is shown, so an exported file holds exactly the rows on screen.
 */
export function RecordsToolbar(props: {
  /** what the search reads in: "the audit log" */
  readonly searchLabel: string;
  readonly searchTestId: string;
  readonly query: string;
  readonly onQuery: (query: string) => void;
  readonly choices: readonly RecordsChoice[];
  readonly shown: number;
  readonly total: number;
  readonly countTestId: string;
  readonly exportTestId: string;
  readonly onExport: () => void;
}) {
  return (
    <div className="toolbar">
      <input type="search" placeholder="Search every column…" aria-label={`Search ${props.searchLabel}`} data-testid={props.searchTestId} value={props.query} onChange={(e) => props.onQuery(e.target.value)} />
      {props.choices.map((choice) => (
        <select key={choice.testId} aria-label={choice.label} data-testid={choice.testId} value={choice.value} onChange={(e) => choice.onChange(e.target.value)}>
          <option value="">{choice.every}</option>
          {choice.values.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      ))}
      <span className="count" data-testid={props.countTestId} role="status">
        {props.shown} of {props.total} shown
      </span>
      <button type="button" data-testid={props.exportTestId} disabled={props.shown === 0} onClick={props.onExport}>
        Export CSV
      </button>
    </div>
  );
}
