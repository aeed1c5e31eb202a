/** Per-request DataLoaders: every User lookup in one request is one database query. */
import DataLoader from 'dataloader';
import type { AccountService } from './service.js';
import type { UserDoc } from './store.js';

export interface AccountsLoaders {
  readonly user: DataLoader<string, UserDoc | null>;
}

export function createLoaders(service: AccountService): AccountsLoaders {
  return {
    user: new DataLoader(async (ids) => {
      const found = await service.usersByIds(ids);
      return ids.map((id) => found.get(id) ?? null);
    }, { maxBatchSize: 1_000 }),
  };
}
