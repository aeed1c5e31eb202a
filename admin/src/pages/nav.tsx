/** The console's pages and the nav between them (links to #/name, so the browser keeps history). */
import type { ReactNode } from 'react';

export const PAGES = { books: 'Books', people: 'People', partners: 'Partners', schema: 'Schema' } as const;
export type PageName = keyof typeof PAGES;

export function pageFromHash(hash: string): PageName {
  const name = hash.replace(/^#\/?/, '');
  return Object.hasOwn(PAGES, name) ? (name as PageName) : 'books';
}

export function PageNav({ current }: { current: PageName }): ReactNode {
  return (
    <nav aria-label="Console" className="page-nav">
      <ul>
        {(Object.keys(PAGES) as PageName[]).map((name) => (
          <li key={name}>
            <a href={`#/${name}`} aria-current={name === current ? 'page' : undefined}>{PAGES[name]}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
