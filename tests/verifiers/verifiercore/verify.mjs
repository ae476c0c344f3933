// Independent verifier: @digitalcredentials/verifier-core (Learner Credential Wallet,
// VerifierPlus), offline.
//
// stdin:  {"items": [item, ...]}  or one item;  item is
//           {"credential": {...}, "documents": {url: doc, ...}}
//         | {"presentation": {...}, "documents": {...}, "challenge"?: str,
//            "unsignedPresentation"?: bool}
// stdout: {"results": [result, ...]}, one per item in order: verifier-core's own answer
//         (`log`, `errors`, `additionalInformation`; for a presentation `presentationResult`
//         and `credentialResults`), with the echoed `credential` left out, Errors turned into
//         their messages, and `unserved`: the URLs it asked for that were not served.
//
// verifier-core takes no document loader: it builds its own at import time
// (security-document-loader with `fetchRemoteContexts: true`, its bundled contexts first,
// did:key computed locally, did:web and any other URL fetched with `fetch`). So this
// harness replaces `globalThis.fetch`, before importing it, with an offline one that serves
//   - `documents` of the item being verified, under their exact URL; a did:web DID under
//     its did.json URL (did:web:localhost%3A8004 -> https://localhost:8004/.well-known/did.json),
//   - the reference folder's contexts (contexts/index.json) and JSON Schemas
//     (schemas/index.json) ($CREDSTACK_REFERENCE_DIR, default ../../../../shared/reference),
// and answers 404 to anything else: nothing is fetched from the network.
// No DID registry is given (`knownDIDRegistries: []`), so the `registered_issuer` step is
// `valid: false` with no matching issuer and no unchecked registry: our issuers are in no
// DCC registry. Items are verified one after another in this one process.
// Exit code 0 whenever verdicts were reached; 2 on bad input.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_DIR = path.resolve(
  HERE, process.env.CREDSTACK_REFERENCE_DIR || '../../../../shared/reference');

// verifier-core logs schema problems with console.log: keep stdout for the verdict
console.log = console.error;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function loadIndex(name) {
  const index = JSON.parse(await readFile(path.join(REFERENCE_DIR, name), 'utf8'));
  return new Map(Object.entries(index));
}

function didWebUrl(did) {
  // did:web:<host>[:<path>...] -> https://<host>/<path>/did.json (or /.well-known/did.json)
  const [host, ...segments] = did.slice('did:web:'.length).split(':');
  const where = segments.length > 0 ?
    segments.map(decodeURIComponent).join('/') : '.well-known';
  return `https://${decodeURIComponent(host)}/${where}/did.json`;
}

function offlineFetch({served, referenceIndex}) {
  const fileCache = new Map();
  return async function fetch(input) {
    const url = typeof input === 'string' ? input :
      (input instanceof URL ? input.href : input.url);
    let document = served.current.get(url);
    if(document === undefined && referenceIndex.has(url)) {
      if(!fileCache.has(url)) {
        const file = path.join(REFERENCE_DIR, referenceIndex.get(url));
        fileCache.set(url, JSON.parse(await readFile(file, 'utf8')));
      }
      document = fileCache.get(url);
    }
    if(document === undefined) {
      served.unserved.push(url);
      return new Response(JSON.stringify({error: 'not available offline'}), {
        status: 404, headers: {'content-type': 'application/json'}
      });
    }
    return new Response(JSON.stringify(document), {
      status: 200, headers: {'content-type': 'application/json'}
    });
  };
}

function servedDocuments(documents) {
  const served = new Map();
  for(const [url, document] of Object.entries(documents)) {
    served.set(url.startsWith('did:web:') ? didWebUrl(url) : url, document);
  }
  return served;
}

function plain(value) {
  // JSON-safe copy: Errors become their messages, the echoed credential is dropped
  return JSON.parse(JSON.stringify(value, (key, item) => {
    if(key === 'credential' || key === 'stackTrace') {
      return undefined;
    }
    if(item instanceof Error) {
      return item.message;
    }
    return item;
  }));
}

async function main() {
  let items;
  try {
    const input = JSON.parse(await readStdin());
    items = Array.isArray(input?.items) ? input.items : [input];
    for(const item of items) {
      if(!item || (typeof item.credential !== 'object' &&
        typeof item.presentation !== 'object')) {
        throw new TypeError(
          'each item must be {"credential"|"presentation": {...}, "documents": {...}}');
      }
    }
  } catch(error) {
    process.stdout.write(JSON.stringify({error: error.message}) + '\n');
    process.exitCode = 2;
    return;
  }
  const referenceIndex = new Map([
    ...await loadIndex('contexts/index.json'),
    ...await loadIndex('schemas/index.json')
  ]);
  const served = {current: new Map(), unserved: []};
  globalThis.fetch = offlineFetch({served, referenceIndex});
  const {verifyCredential, verifyPresentation} =
    await import('@digitalcredentials/verifier-core');

  const results = [];
  for(const item of items) {
    served.current = servedDocuments(item.documents || {});
    served.unserved = [];
    const result = item.credential ?
      await verifyCredential({credential: item.credential, knownDIDRegistries: []}) :
      await verifyPresentation({
        presentation: item.presentation,
        knownDIDRegistries: [],
        unsignedPresentation: item.unsignedPresentation === true,
        ...(item.challenge ? {challenge: item.challenge} : {})
      });
    results.push({...plain(result), unserved: [...new Set(served.unserved)]});
  }
  process.stdout.write(JSON.stringify({results}) + '\n');
}

await main();
