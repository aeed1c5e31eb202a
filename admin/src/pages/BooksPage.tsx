/**
 * The books list: a table over `books` (columns from Book, search and status filters from
 * BookFilter, cursor paging), a create form from CreateBookInput, and a side panel for one book's
 * upload and publishing, linking to its full page.
 */
import { useState, type ReactNode } from 'react';
import { isInputObjectType, type GraphQLSchema } from 'graphql';
import { request } from '../api.js';
import { ConnectionTable } from '../components/ConnectionTable.js';
import { BookPanel } from '../components/BookPanel.js';
import { InputForm } from '../components/InputForm.js';
import { href } from '../route.js';

export function BooksPage({ schema, token }: { schema: GraphQLSchema; token: string }): ReactNode {
  const [reloadKey, setReloadKey] = useState(0);
  const [openId, setOpenId] = useState<string | null>(null);
  const createInput = schema.getType('CreateBookInput');
  return (
    <div className="books">
      <ConnectionTable
        schema={schema}
        token={token}
        field="books"
        title="Books"
        preferred={['title', 'authors', 'status', 'language', 'id']}
        reloadKey={reloadKey}
        onOpen={(node) => setOpenId(String(node.id))}
      />
      <div className="side">
        {openId && (
          <BookPanel
            token={token}
            bookId={openId}
            detailsHref={href('books', openId)}
            onChanged={() => setReloadKey((k) => k + 1)}
            onClose={() => setOpenId(null)}
          />
        )}
        {isInputObjectType(createInput) && (
          <section aria-labelledby="create-book-title">
            <h2 id="create-book-title">New book</h2>
            <InputForm
              type={createInput}
              submitLabel="Create book"
              onSubmit={async (input) => {
                const { createBook } = await request<{ createBook: { id: string; title: string } }>(
                  'mutation ConsoleCreateBook($input: CreateBookInput!) { createBook(input: $input) { id title } }',
                  { input },
                  token,
                );
                setReloadKey((k) => k + 1);
                return `Created “${createBook.title}” (${createBook.id}).`;
              }}
            />
          </section>
        )}
      </div>
    </div>
  );
}
