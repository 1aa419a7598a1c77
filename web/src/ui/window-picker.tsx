import { WINDOWS, type TimeWindow } from '../live';

/** Chooses how far back a section's charts and logs look, in platform time. */
export function WindowPicker({ value, onChange, id }: { value: TimeWindow; onChange: (w: TimeWindow) => void; id: string }) {
  return (
    <label class="inline window-picker" for={id}>
      Last
      <select id={id} value={value.minutes} onChange={(e) => onChange(WINDOWS.find((w) => w.minutes === Number(e.currentTarget.value))!)}>
        {WINDOWS.map((w) => (
          <option key={w.minutes} value={w.minutes}>
            {w.label}
          </option>
        ))}
      </select>
    </label>
  );
}
