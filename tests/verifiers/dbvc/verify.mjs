// Independent verifier: Digital Bazaar's VC stack, offline.
//
// stdin:  {"credential": {...}, "documents": {url: doc, ...}, "now"?: "2030-01-01T00:00:00Z"}
// stdout: {"verified": bool, "statusResult": {...}|null, "error": string|null, "errors": [string]}
//
// - JSON-LD contexts come ONLY from contexts/index.json of the reference folder
//   ($CREDSTACK_REFERENCE_DIR, default ../../../../shared/reference from this folder);
// - `documents` are served under their exact URL (DID documents, status list credentials).
//   For `<url>#<fragment>` whose `<url>` is a served document, the node with that id
//   (e.g. a DID document's verification method) is returned with the document's
//   @context, as DB's verifiers expect: the proof's verificationMethod is loaded first,
//   then its `controller`, whose `assertionMethod` must list the method's full id, and
//   whose id must equal the credential's issuer id.
// - did:key URLs are resolved locally with @digitalbazaar/did-method-key.
// - Any other URL fails: nothing is fetched from the network.
// - The credential is expanded in jsonld.js safe mode first (an undefined term fails).
// Exit code 0 whenever a verdict was reached (verified or not); 2 on bad input.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as didKey from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_DIR = path.resolve(
  HERE, process.env.CREDSTACK_REFERENCE_DIR || '../../../../shared/reference');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function loadContextIndex() {
  const indexPath = path.join(REFERENCE_DIR, 'contexts', 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8'));
  return new Map(Object.entries(index));
}

function findNode(document, url, fragment) {
  // depth-first search for an object whose id is `url` or `#fragment`
  const wanted = new Set([url, `#${fragment}`]);
  const stack = [document];
  while(stack.length > 0) {
    const node = stack.pop();
    if(Array.isArray(node)) {
      stack.push(...node);
    } else if(node && typeof node === 'object') {
      if(node !== document && wanted.has(node.id)) {
        return node;
      }
      for(const [key, value] of Object.entries(node)) {
        if(key !== '@context') {
          stack.push(value);
        }
      }
    }
  }
  return undefined;
}

function makeDocumentLoader({contextIndex, documents}) {
  const didKeyDriver = didKey.driver();
  didKeyDriver.use({
    multibaseMultikeyHeader: 'z6Mk',
    fromMultibase: Ed25519Multikey.from
  });
  const contextCache = new Map();

  const result = (url, document) => ({
    contextUrl: null,
    documentUrl: url,
    document: structuredClone(document)
  });

  return async function documentLoader(url) {
    if(Object.hasOwn(documents, url)) {
      return result(url, documents[url]);
    }
    const hash = url.indexOf('#');
    if(hash !== -1) {
      const base = url.slice(0, hash);
      if(Object.hasOwn(documents, base)) {
        const container = documents[base];
        const node = findNode(container, url, url.slice(hash + 1));
        if(!node) {
          throw new Error(`"${url}" not found in the served document "${base}".`);
        }
        return result(url, {
          '@context': container['@context'],
          ...node,
          id: url
        });
      }
    }
    if(contextIndex.has(url)) {
      if(!contextCache.has(url)) {
        const file = path.join(REFERENCE_DIR, contextIndex.get(url));
        contextCache.set(url, JSON.parse(await readFile(file, 'utf8')));
      }
      return result(url, contextCache.get(url));
    }
    if(url.startsWith('did:key:')) {
      return result(url, await didKeyDriver.get({url}));
    }
    throw new Error(`Document "${url}" is not available offline.`);
  };
}

function messages(error) {
  // flatten an Error (with nested `errors` / `cause`) into message strings
  if(error === undefined || error === null) {
    return [];
  }
  if(!(error instanceof Error)) {
    return [typeof error === 'string' ? error : JSON.stringify(error)];
  }
  const out = [error.message];
  for(const inner of error.errors || []) {
    out.push(...messages(inner));
  }
  if(error.cause) {
    out.push(...messages(error.cause));
  }
  return out;
}

function toJson(value) {
  // JSON-safe copy: Errors become their message strings
  return JSON.parse(JSON.stringify(value, (key, item) =>
    item instanceof Error ? messages(item).join(' | ') : item));
}

async function main() {
  let input;
  try {
    input = JSON.parse(await readStdin());
    if(!input || !input.credential || typeof input.credential !== 'object') {
      throw new TypeError('stdin must be {"credential": {...}, "documents": {...}}');
    }
  } catch(error) {
    process.stdout.write(JSON.stringify({
      verified: false, statusResult: null, error: messages(error).join(' | '),
      errors: messages(error)
    }) + '\n');
    process.exitCode = 2;
    return;
  }
  const {credential, documents = {}, now} = input;
  const documentLoader = makeDocumentLoader({
    contextIndex: await loadContextIndex(),
    documents
  });

  // jsonld.js safe mode: a term that no context defines is an error
  try {
    await jsonld.expand(structuredClone(credential), {documentLoader, safe: true});
  } catch(error) {
    const errors = ['JSON-LD safe mode expansion failed', ...messages(error)];
    process.stdout.write(JSON.stringify({
      verified: false, statusResult: null, error: errors.join(' | '), errors
    }) + '\n');
    return;
  }

  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const options = {credential, suite, documentLoader};
  if(credential.credentialStatus) {
    options.checkStatus = checkStatus;
  }
  if(now) {
    options.now = new Date(now);
  }
  const result = await vc.verifyCredential(options);
  const errors = messages(result.error);
  for(const proofResult of result.results || []) {
    errors.push(...messages(proofResult.error));
    if(proofResult.purposeResult && !proofResult.purposeResult.valid) {
      errors.push(...messages(proofResult.purposeResult.error));
    }
  }
  if(result.statusResult) {
    errors.push(...messages(result.statusResult.error));
  }
  const unique = [...new Set(errors)];
  process.stdout.write(JSON.stringify({
    verified: result.verified === true,
    statusResult: result.statusResult ? toJson(result.statusResult) : null,
    error: unique.length > 0 ? unique.join(' | ') : null,
    errors: unique
  }) + '\n');
}

await main();
