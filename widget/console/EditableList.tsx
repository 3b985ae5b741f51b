/**
 * A page of the shop's records of one kind (rewards, challenges): the table of them, each row
 * edited in place or deleted after a confirmation, and a form for a new one below. Headings, ids,
 * button labels and messages are all made from the kind's `noun`, so the pages read alike.
 */
import type { ComponentChildren, ComponentType } from "preact";
import { useState } from "preact/hooks";
import { api } from "./api";
import { CardForm, DataTable, ErrorNotice, Status, useAction, useLoad } from "./ui";

interface Named {
  id: string;
  name: string;
}

/** What a kind's own fields get to show and change the draft. */
export interface DraftFieldsProps<D> {
  draft: D;
  set: <K extends keyof D>(key: K, value: D[K]) => void;
  /** The last refusal, for `fieldError`. */
  error: unknown;
  isNew: boolean;
}

/** Table columns after the name (which heads each row), with what each shows of a record. */
export type Columns<T> = readonly (readonly [string, (record: T) => ComponentChildren])[];

export interface EditableListProps<T extends Named, D> {
  /** "reward", "challenge". */
  noun: string;
  /** "rewards": also the key of the list in the API's answer to `path`. */
  plural: string;
  /** The collection, e.g. /v1/rewards; one record is `${path}/${id}`. */
  path: string;
  empty: string;
  /** Said after "Delete the reward “…”?": what deleting leaves alone. */
  deleteNote: string;
  columns: Columns<T>;
  blank: () => D;
  draftOf: (record: T) => D;
  /** The request body for a draft; `isNew` for POST, else PATCH. */
  bodyOf: (draft: D, isNew: boolean) => Record<string, unknown>;
  Fields: ComponentType<DraftFieldsProps<D>>;
}

function DraftForm<T extends Named, D>(props: {
  kind: EditableListProps<T, D>;
  initial: D;
  isNew: boolean;
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
  onCancel?: () => void;
}) {
  const { kind, isNew } = props;
  const [draft, setDraft] = useState(props.initial);
  const submit = useAction();
  const set = <K extends keyof D>(key: K, value: D[K]) => setDraft((d) => ({ ...d, [key]: value }));
  return (
    <CardForm onSubmit={() => submit.run(() => props.onSubmit(kind.bodyOf(draft, isNew)))}>
      <kind.Fields draft={draft} set={set} error={submit.error} isNew={isNew} />
      <ErrorNotice error={submit.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={submit.busy}>
          {isNew ? `Create ${kind.noun}` : `Save ${kind.noun}`}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </CardForm>
  );
}

export function EditableList<T extends Named, D>(props: EditableListProps<T, D>) {
  const { noun, plural, path } = props;
  const records = useLoad(() => api<Record<string, T[]>>(path).then((r) => r[plural]!), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const removal = useAction();
  // A new key after each creation gives the next one a fresh, blank form.
  const [formKey, setFormKey] = useState(0);
  const recordPath = (record: T) => `${path}/${encodeURIComponent(record.id)}`;

  function remove(record: T) {
    if (!confirm(`Delete the ${noun} “${record.name}”? ${props.deleteNote}`)) return;
    removal.run(async () => {
      await api(recordPath(record), { method: "DELETE" });
      setStatus(`Deleted “${record.name}”.`);
      records.reload();
    });
  }

  const list = records.data;
  return (
    <>
      <Status>{status}</Status>
      <ErrorNotice error={removal.error ?? records.error} />
      <section aria-labelledby={`${plural}-list`}>
        <h2 id={`${plural}-list`}>All {plural}</h2>
        {list && list.length === 0 && <p>{props.empty}</p>}
        {list && list.length > 0 && (
          <DataTable columns={["Name", ...props.columns.map(([label]) => label), <span class="visually-hidden">Actions</span>]}>
            {list.map((record) =>
              editing === record.id ? (
                <tr key={record.id}>
                  <td colSpan={props.columns.length + 2}>
                    <DraftForm
                      kind={props}
                      initial={props.draftOf(record)}
                      isNew={false}
                      onCancel={() => setEditing(null)}
                      onSubmit={async (body) => {
                        await api(recordPath(record), { method: "PATCH", body });
                        setEditing(null);
                        setStatus(`Saved “${String(body.name)}”.`);
                        records.reload();
                      }}
                    />
                  </td>
                </tr>
              ) : (
                <tr key={record.id}>
                  <th scope="row">{record.name}</th>
                  {props.columns.map(([label, show]) => (
                    <td key={label}>{show(record)}</td>
                  ))}
                  <td class="actions">
                    <button type="button" onClick={() => setEditing(record.id)} aria-label={`Edit ${record.name}`}>
                      Edit
                    </button>
                    <button type="button" class="danger" onClick={() => remove(record)} aria-label={`Delete ${record.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ),
            )}
          </DataTable>
        )}
      </section>
      <section aria-labelledby={`${noun}-new`}>
        <h2 id={`${noun}-new`}>New {noun}</h2>
        <DraftForm
          key={formKey}
          kind={props}
          initial={props.blank()}
          isNew
          onSubmit={async (body) => {
            await api(path, { method: "POST", body });
            setStatus(`Created “${String(body.name)}”.`);
            setFormKey((k) => k + 1);
            records.reload();
          }}
        />
      </section>
    </>
  );
}
