import { describe, expect, it } from 'vitest';
import { DownloadSigner } from './downloads.js';

describe('DownloadSigner', () => {
  const signer = new DownloadSigner('download-test-secret-download-test-secret', () => 'http://127.0.0.1:4002', 60_000);
  const revisionId = '0123456789abcdef01234567';

  it('accepts its own link until it expires, then answers LINK_EXPIRED (410)', () => {
    const url = new URL(signer.sign(revisionId, 'u:reader', 1_000).url);
    expect(signer.verify(url, 2_000)).toEqual({ ok: true, revisionId, subject: 'u:reader' });
    expect(signer.verify(url, 61_001)).toMatchObject({ ok: false, code: 'LINK_EXPIRED' });
  });

  it('refuses a tampered link with FORBIDDEN and an unknown path with NOT_FOUND', () => {
    const url = new URL(signer.sign(revisionId, 'u:reader', 1_000).url);
    url.searchParams.set('sub', 'u:someone-else');
    expect(signer.verify(url, 2_000)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(signer.verify(new URL('http://127.0.0.1:4002/downloads/nope.epub'), 2_000)).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});
