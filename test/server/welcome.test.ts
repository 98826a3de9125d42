import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testServer } from '../helpers/couch.js';
import { CouchServer } from '../../src/couch/server.js';

test('GET / answers with a CouchDB welcome object, without credentials, so clients recognise the server', async () => {
  const s = await testServer();
  const anonymous = new CouchServer({ url: s.url });
  try {
    const w = await anonymous.welcome();
    assert.equal(w.couchdb, 'Welcome');
    assert.match(String(w.version), /^\d+\.\d+/);
  } finally {
    await anonymous.close();
  }
});
