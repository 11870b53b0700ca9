#!/usr/bin/env python3
"""Writes pyjwt_cases.json: keys and tokens made with PyJWT and cryptography, each with PyJWT's
verdict, for jwt_pyjwt_test.cc to check Cairn's verifier against.

    .venv/bin/python src/auth/jwt/testdata/make_tokens.py

Keys are generated afresh on each run (only their public halves and the HMAC secret are
written). Every token is verified here with jwt.decode under the same settings the C++ test
uses (issuer, audience, leeway 60 s, the pinned `now`), and that verdict is recorded as
"pyjwt_valid". "cairn_valid" is the verdict Cairn must reach: the same, except for the cases
listed in DIFFERENCES, where Cairn is deliberately stricter.
"""

import base64
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

# PyJWT reads the real clock, so the tokens are made around it; the C++ test passes this `now`.
NOW = int(time.time())
ISSUER = "https://issuer.example"
AUDIENCE = "cairn"
LEEWAY = 60

# Cases where Cairn rejects what PyJWT accepts, and why.
DIFFERENCES = {
    "duplicate_sub": "PyJWT keeps the last of duplicate claims; Cairn rejects duplicates",
    "duplicate_header_alg": "PyJWT keeps the last of duplicate header keys; Cairn rejects them",
    "tenant_number": "Cairn requires the tenant claim to be strings",
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: str, payload: str, sign) -> str:
    signing_input = (b64(header.encode()) + "." + b64(payload.encode())).encode()
    return signing_input.decode() + "." + b64(sign(signing_input))


def main() -> None:
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyjwt_cases.json")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    secret = os.urandom(32)

    def pem(key) -> str:
        return key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    rsa_jwk.update(kid="rsa-1", use="sig", alg="RS256")
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    ec_jwk.update(kid="ec-1", use="sig")
    oct_jwk = json.loads(jwt.algorithms.HMACAlgorithm.to_jwk(secret))
    oct_jwk.update(kid="hs-1")
    jwks = {"keys": [rsa_jwk, ec_jwk, oct_jwk]}

    signing = {"RS256": (rsa_key, "rsa-1"), "ES256": (ec_key, "ec-1"), "HS256": (secret, "hs-1")}
    verifying = {
        "RS256": rsa_key.public_key(),
        "ES256": ec_key.public_key(),
        "HS256": secret,
    }

    def claims(**extra):
        c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": NOW + 3600, "iat": NOW - 10}
        c.update(extra)
        return {k: v for k, v in c.items() if v is not None}

    cases = []

    def add(name, token, alg, expect_principal=None, tenants=None, roles=None):
        try:
            decoded = jwt.decode(
                token,
                verifying[alg],
                algorithms=[alg],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": ["exp"]},
            )
            pyjwt_valid = True
            if expect_principal is not None:
                assert decoded["sub"] == expect_principal
        except jwt.PyJWTError as e:
            pyjwt_valid = False
            reason = f"{type(e).__name__}: {e}"
        else:
            reason = ""

        case = {
            "name": name,
            "token": token,
            "alg": alg,
            "pyjwt_valid": pyjwt_valid,
            "pyjwt_error": reason,
            "cairn_valid": pyjwt_valid and name not in DIFFERENCES,
        }
        if name in DIFFERENCES:
            case["difference"] = DIFFERENCES[name]
        if case["cairn_valid"]:
            case["principal"] = expect_principal or "alice"
            case["tenants"] = tenants or []
            case["roles"] = roles or []
        cases.append(case)

    for alg, (key, kid) in signing.items():
        enc = lambda payload, **kw: jwt.encode(payload, key, algorithm=alg, **kw)
        a = alg.lower()
        add(f"{a}_valid", enc(claims(), headers={"kid": kid}), alg)
        add(f"{a}_valid_no_kid", enc(claims()), alg)
        add(f"{a}_expired", enc(claims(exp=NOW - 3600), headers={"kid": kid}), alg)
        add(f"{a}_expired_within_leeway", enc(claims(exp=NOW - 30), headers={"kid": kid}), alg)
        add(f"{a}_not_yet_valid", enc(claims(nbf=NOW + 600), headers={"kid": kid}), alg)
        add(f"{a}_wrong_issuer", enc(claims(iss="https://evil.example"), headers={"kid": kid}), alg)
        add(f"{a}_wrong_audience", enc(claims(aud="other"), headers={"kid": kid}), alg)
        add(f"{a}_audience_array", enc(claims(aud=["x", AUDIENCE]), headers={"kid": kid}), alg)
        add(f"{a}_missing_exp", enc(claims(exp=None), headers={"kid": kid}), alg)
        add(
            f"{a}_tenants_roles",
            enc(claims(tenant=["acme", "beta"], roles="admin"), headers={"kid": kid}),
            alg,
            tenants=["acme", "beta"],
            roles=["admin"],
        )
        good = enc(claims(), headers={"kid": kid})
        head, body, sig = good.split(".")
        flipped = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
        flipped[5] ^= 0x01
        add(f"{a}_bad_signature", f"{head}.{body}.{b64(bytes(flipped))}", alg)

    rsa_sign = lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA256())

    def hs_sign(m):
        h = hmac.HMAC(secret, hashes.SHA256())
        h.update(m)
        return h.finalize()

    payload = json.dumps(claims())
    add(
        "duplicate_sub",
        raw_token('{"alg":"RS256","kid":"rsa-1"}', payload[:-1] + ',"sub":"root"}', rsa_sign),
        "RS256",
        expect_principal="root",
    )
    add(
        "duplicate_header_alg",
        raw_token('{"alg":"HS256","kid":"hs-1","alg":"HS256"}', payload, hs_sign),
        "HS256",
    )
    add(
        "tenant_number",
        jwt.encode(claims(tenant=7), secret, algorithm="HS256", headers={"kid": "hs-1"}),
        "HS256",
    )
    add("alg_none", raw_token('{"alg":"none"}', payload, lambda m: b""), "HS256")

    for c in cases:
        if c["pyjwt_valid"] != c["cairn_valid"]:
            assert c["name"] in DIFFERENCES, c["name"]

    data = {
        "generator": "make_tokens.py, PyJWT " + jwt.__version__,
        "now": NOW,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "leeway_s": LEEWAY,
        "rsa_public_pem": pem(rsa_key),
        "ec_public_pem": pem(ec_key),
        "hmac_secret_b64url": b64(secret),
        "jwks": jwks,
        "cases": cases,
    }
    with open(out_path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
