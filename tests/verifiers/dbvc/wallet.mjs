// A scripted holder wallet, on Digital Bazaar's libraries (not the issuer's code): it makes
// a did:key, and answers a DIDAuthentication request with a presentation signed
// (DataIntegrityProof, eddsa-rdfc-2022, proofPurpose authentication) for the request's
// challenge and domain, as Learner Credential Wallet does.
//
// stdin:  {"challenge": "...", "domain": "...", "seed"?: "<64 hex chars>"}
// stdout: {"holder": "did:key:z6Mk...", "presentation": {...}}
// JSON-LD contexts come only from the reference folder, as in verify.mjs.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

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
  const seed = input.seed ? Buffer.from(input.seed, 'hex') : undefined;
  const keyPair = await Ed25519Multikey.generate(seed ? {seed} : {});
  const holder = `did:key:${keyPair.publicKeyMultibase}`;
  keyPair.controller = holder;
  keyPair.id = `${holder}#${keyPair.publicKeyMultibase}`;
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: eddsaRdfc2022CryptoSuite
  });
  const presentation = vc.createPresentation({holder, version: 2.0});
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
