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
}

export function InputForm({ type, submitLabel, onSubmit, initial }: InputFormProps): ReactNode {
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
      <Fields fields={formFields(type)} values={values} onChange={setValues} depth={0} />
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
}

// Self-referencing input types would recurse for ever; three levels is deeper than any form here.
const MAX_DEPTH = 3;

function Fields({ fields, values, onChange, depth }: FieldsProps): ReactNode {
  return fields.map((field) => (
    <Field key={field.name} field={field} value={values[field.name]} depth={depth} onChange={(value) => onChange({ ...values, [field.name]: value })} />
  ));
}

function Field({ field, value, onChange, depth }: { field: FormField; value: FormValue | undefined; onChange: (v: FormValue) => void; depth: number }): ReactNode {
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
  let control: ReactNode;
  if (kind.kind === 'boolean') {
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
