/** The since and until fields of a filter form (local date and time); `prefix` keeps their ids apart. */
export function TimeRange(props: {
  prefix: string;
  since: string;
  until: string;
  onSince: (event: Event) => void;
  onUntil: (event: Event) => void;
}) {
  return (
    <>
      <div>
        <label for={`${props.prefix}-since`}>Since</label>
        <input id={`${props.prefix}-since`} type="datetime-local" value={props.since} onInput={props.onSince} />
      </div>
      <div>
        <label for={`${props.prefix}-until`}>Until</label>
        <input id={`${props.prefix}-until`} type="datetime-local" value={props.until} onInput={props.onUntil} />
      </div>
    </>
  );
}

/** A filter form's buttons: apply it, or clear it by going to `clear`. */
export function FilterButtons({ clear }: { clear: string }) {
  return (
    <div class="buttons">
      <button type="submit" class="primary">
        Filter
      </button>
      <a href={clear}>Clear</a>
    </div>
  );
}

/**
 * A choice of a filter form: "any", then `options`; a value from the page's address that is not
 * among them (a consumer since deleted, a type the catalog lost) stays chosen.
 */
export function ChoiceField(props: {
  id: string;
  label: string;
  name?: string;
  value: string;
  options: readonly string[];
  onChange: (event: Event) => void;
}) {
  const { value, options } = props;
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} value={value} onChange={props.onChange}>
        <option value="">any</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
        {value && !options.includes(value) && <option value={value}>{value}</option>}
      </select>
    </div>
  );
}
