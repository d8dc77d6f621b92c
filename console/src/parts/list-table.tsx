import type { ComponentChildren } from 'preact';

/** A column of a list table: its heading; `num` right-aligns figures. `false` leaves a column out. */
export type Column = { label: string; num?: boolean } | false;

/** A list as a table (cards on a phone): the headings of `columns`, and `children` as its rows. */
export function ListTable({
  columns,
  variant,
  children,
}: {
  columns: Column[];
  /** Another class for the table, for styles of its own. */
  variant?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class={variant === undefined ? 'list cards-on-phone' : `list cards-on-phone ${variant}`}>
        <thead>
          <tr>
            {columns.map(
              (column) =>
                column && (
                  <th key={column.label} scope="col" class={column.num ? 'num' : undefined}>
                    {column.label}
                  </th>
                ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
