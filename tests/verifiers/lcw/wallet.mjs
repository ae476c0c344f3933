// A scripted wallet answering DID authentication the way Learner Credential Wallet does:
// a VC 1.1 presentation signed Ed25519Signature2020 (Digital Bazaar's suite) by a did:key,
// with the request's challenge and domain.
//
// stdin:  {"challenge": "...", "domain": "..."}
// stdout: {"holder": "did:key:z6Mk...", "presentation": {...}}
// JSON-LD contexts come only from the reference folder.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from
  '@digitalbazaar/ed25519-verification-key-2020';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_DIR = path.resolve(
  HERE, process.env.CREDSTACK_REFERENCE_DIR || '../../../../shared/reference');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const input = await readStdin();
  const index = JSON.parse(
    await readFile(path.join(REFERENCE_DIR, 'contexts', 'index.json'), 'utf8'));
  const documentLoader = async url => {
    if(!Object.hasOwn(index, url)) {
      throw new Error(`Document "${url}" is not available offline.`);
    }
    const document = JSON.parse(
      await readFile(path.join(REFERENCE_DIR, index[url]), 'utf8'));
    return {contextUrl: null, documentUrl: url, document};
  };
  const key = await Ed25519VerificationKey2020.generate();
  const holder = `did:key:${key.fingerprint()}`;
  key.controller = holder;
  key.id = `${holder}#${key.fingerprint()}`;
  const suite = new Ed25519Signature2020({key});
  const presentation = vc.createPresentation({holder, version: 1.0});
  presentation['@context'].push('https://w3id.org/security/suites/ed25519-2020/v1');
  const signed = await vc.signPresentation({
    presentation, suite, documentLoader,
    challenge: input.challenge, domain: input.domain
  });
  process.stdout.write(JSON.stringify({holder, presentation: signed}) + '\n');
}

main().catch(error => {
  process.stdout.write(JSON.stringify({error: String(error && error.stack || error)}) + '\n');
  process.exit(2);
});
