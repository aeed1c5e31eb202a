/**
 * A form generated from a GraphQL input type: required fields marked and checked, enums as selects,
 * lists one item per line, nested input types as fieldsets, descriptions as help text. Server
 * errors are shown as the server wrote them.
 */
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import type { GraphQLInputObjectType } from 'graphql';
import { ApiError } from '../api.js';
import { formFields, FormProblem, toInput, type FormField, type FormValue, type FormValues } from '../schema.js';

export interface InputFormProps {
  readonly type: GraphQLInputObjectType;
  readonly submitLabel: string;
  /** Sends the input; resolves with a message to show on success. */
  readonly onSubmit: (input: Record<string, unknown>) => Promise<string>;
  /** Starting values (an edit form); kept after a successful submit instead of clearing the form. */
  readonly initial?: FormValues;
  /** Top-level list fields whose items come from the API (scopes, say): checkboxes, with descriptions. */
  readonly choices?: Readonly<Record<string, ReadonlyArray<Choice>>>;
  /** Top-level text fields edited in a multi-line box (a pasted operation, say). */
  readonly multiline?: readonly string[];
}

export interface Choice {
  readonly name: string;
  readonly description: string | null;
}

interface Extras {
  readonly choices: Readonly<Record<string, ReadonlyArray<Choice>>>;
  readonly multiline: readonly string[];
}

const NO_EXTRAS: Extras = { choices: {}, multiline: [] };

export function InputForm({ type, submitLabel, onSubmit, initial, choices = {}, multiline = [] }: InputFormProps): ReactNode {
  const [values, setValues] = useState<FormValues>(initial ?? {});
  const [problem, setProblem] = useState<string[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setDone(null);
    setProblem([]);
    let input: Record<string, unknown>;
    try {
      input = toInput(type, values);
    } catch (error) {
      if (error instanceof FormProblem) return setProblem([error.message]);
      throw error;
    }
    setBusy(true);
    try {
      setDone(await onSubmit(input));
      if (!initial) setValues({});
    } catch (error) {
      setProblem(error instanceof ApiError ? error.errors.map((e) => e.message) : [String(error)]);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="input-form" onSubmit={(e) => void submit(e)} aria-label={`${type.name} form`} noValidate>
      <Fields fields={formFields(type)} values={values} onChange={setValues} depth={0} extras={{ choices, multiline }} />
      {problem.length > 0 && (
        <div role="alert" className="error">
          {problem.map((p) => <p key={p}>{p}</p>)}
        </div>
      )}
      {done && <p role="status" className="ok">{done}</p>}
      <button type="submit" disabled={busy}>{busy ? 'Saving…' : submitLabel}</button>
    </form>
  );
}

interface FieldsProps {
  readonly fields: readonly FormField[];
  readonly values: FormValues;
  readonly onChange: (values: FormValues) => void;
  readonly depth: number;
  readonly extras?: Extras;
}

// Self-referencing input types would recurse for ever; three levels is deeper than any form here.
const MAX_DEPTH = 3;

function Fields({ fields, values, onChange, depth, extras = NO_EXTRAS }: FieldsProps): ReactNode {
  return fields.map((field) => (
    <Field key={field.name} field={field} value={values[field.name]} depth={depth} extras={extras} onChange={(value) => onChange({ ...values, [field.name]: value })} />
  ));
}

function Field({ field, value, onChange, depth, extras }: { field: FormField; value: FormValue | undefined; onChange: (v: FormValue) => void; depth: number; extras: Extras }): ReactNode {
  const id = useId();
  const helpId = `${id}-help`;
  const label = (
    <label htmlFor={id}>
      {field.name}
      {field.required && <span className="required" aria-hidden="true"> *</span>}
    </label>
  );
  const help = (field.description || field.kind.kind === 'list' || field.deprecationReason) && (
    <small id={helpId} className="help">
      {field.description}
      {field.kind.kind === 'list' && ' One per line.'}
      {field.deprecationReason && ` Deprecated: ${field.deprecationReason}`}
    </small>
  );
  const common = { id, name: field.name, required: field.required, 'aria-required': field.required, 'aria-describedby': help ? helpId : undefined };
  const text = typeof value === 'string' ? value : '';
  const kind = field.kind;
  if (kind.kind === 'object') {
    if (depth >= MAX_DEPTH) return null;
    const nested = typeof value === 'object' ? value : {};
    return (
      <fieldset>
        <legend>{field.name}{field.required ? ' *' : ''}</legend>
        {help}
        <Fields fields={formFields(kind.type)} values={nested} onChange={onChange} depth={depth + 1} />
      </fieldset>
    );
  }
  const choices = depth === 0 && kind.kind === 'list' ? extras.choices[field.name] : undefined;
  if (choices) {
    // The list's value stays one item per line, so the conversion to input is the same as typed.
    const chosen = new Set(text.split('\n').filter(Boolean));
    const toggle = (name: string, on: boolean): void => {
      const next = new Set(chosen);
      if (on) next.add(name);
      else next.delete(name);
      onChange(choices.map((c) => c.name).filter((n) => next.has(n)).join('\n'));
    };
    return (
      <fieldset className="choices" aria-describedby={field.description ? helpId : undefined}>
        <legend>{field.name}{field.required ? ' *' : ''}</legend>
        {choices.map((c) => (
          <div className="choice" key={c.name}>
            <input type="checkbox" id={`${id}-${c.name}`} name={field.name} value={c.name} checked={chosen.has(c.name)} onChange={(e) => toggle(c.name, e.target.checked)} aria-describedby={c.description ? `${id}-${c.name}-help` : undefined} />
            <label htmlFor={`${id}-${c.name}`}>{c.name}</label>
            {c.description && <small id={`${id}-${c.name}-help`} className="help">{c.description}</small>}
          </div>
        ))}
        {field.description && <small id={helpId} className="help">{field.description}</small>}
      </fieldset>
    );
  }
  let control: ReactNode;
  if (kind.kind === 'text' && !kind.numeric && depth === 0 && extras.multiline.includes(field.name)) {
    control = <textarea {...common} rows={8} spellCheck={false} value={text} onChange={(e) => onChange(e.target.value)} maxLength={100_000} />;
  } else if (kind.kind === 'boolean') {
    control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (kind.kind === 'enum') {
    control = (
      <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
        <option value="">{field.required ? 'Choose…' : '(none)'}</option>
        {kind.values.map((v) => <option key={v.name} value={v.name} title={v.description ?? undefined}>{v.name}</option>)}
      </select>
    );
  } else if (kind.kind === 'list') {
    control = <textarea {...common} rows={3} value={text} onChange={(e) => onChange(e.target.value)} maxLength={10_000} />;
  } else {
    control = <input type={kind.numeric ? 'number' : 'text'} {...common} value={text} onChange={(e) => onChange(e.target.value)} maxLength={10_000} />;
  }
  return (
    <div className="field">
      {label}
      {control}
      {help}
    </div>
  );
}
