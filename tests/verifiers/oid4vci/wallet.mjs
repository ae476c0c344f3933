// A scripted holder wallet: the OpenWallet Foundation's OpenID4VCI client library does the
// protocol (offer, issuer metadata, token with the pre-authorized code and PIN, nonce, JWT
// proof of possession, credential request); this script only supplies the key (a fresh
// Ed25519 did:key, from node:crypto) and the callbacks the library asks for.
//
// stdin:  {"offer": "openid-credential-offer://...", "pin"?: "123456"}
// stdout: {"holder": "did:key:z6Mk...", "credentials": [...]} or {"error": "..."}
// The issuer's https certificate is trusted through NODE_EXTRA_CA_CERTS (the dev CA).

import crypto from 'node:crypto';

import {Openid4vciClient} from '@openid4vc/openid4vci';
import {clientAuthenticationAnonymous} from '@openid4vc/oauth2';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58(bytes) {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  let out = '';
  while(n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for(const b of bytes) {
    if(b !== 0) {
      break;
    }
    out = '1' + out;
  }
  return out;
}

const b64url = data => Buffer.from(data).toString('base64url');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function main() {
  const input = await readStdin();
  const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({format: 'jwk'});
  const raw = Buffer.from(publicJwk.x, 'base64url');
  const multibase = 'z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
  const holder = `did:key:${multibase}`;

  const client = new Openid4vciClient({
    callbacks: {
      fetch,
      generateRandom: length => crypto.randomBytes(length),
      hash: (data, alg) => crypto.createHash(
        alg.toLowerCase().replace('-', '')).update(data).digest(),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, {header, payload}) => {
        const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
        const signature = crypto.sign(null, Buffer.from(input), privateKey);
        return {jwt: `${input}.${b64url(signature)}`, signerJwk: publicJwk};
      }
    }
  });
  const credentialOffer = await client.resolveCredentialOffer(input.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(
    credentialOffer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: input.pin
  });
  const [credentialConfigurationId] = credentialOffer.credential_configuration_ids;
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId,
    nonce,
    signer: {method: 'did', didUrl: `${holder}#${multibase}`, alg: 'EdDSA'}
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    credentialConfigurationId,
    accessToken: accessTokenResponse.access_token,
    proofs: {jwt: [jwt]}
  });
  const credentials = response.credentialResponse.credentials.map(c => c.credential);
  process.stdout.write(JSON.stringify({holder, credentials}) + '\n');
}

main().catch(error => {
  const detail = error && (error.stack || String(error));
  const body = error && error.response ? ` ${JSON.stringify(error.errorResponse ?? '')}` : '';
  process.stdout.write(JSON.stringify({error: detail + body}) + '\n');
  process.exit(2);
});
