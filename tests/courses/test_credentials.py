"""Certificates as Open Badges 3.0 credentials: the learner downloads one, anyone verifies it with
an independent library (openbadgeslib, PyJWT underneath; the platform signs with joserfc)
against the key the platform publishes, and a revoked one shows in the published status list."""

import base64
import gzip
import json
import socket
import stat
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier
from sqlalchemy import select

from courses.models import Certificate
from learnplatform import config
from learnplatform.extensions import db
from tests.courses.test_modules import build_module, enrol_in, lesson_ids
from tests.helpers import post_form

MODULE = "Countering the financing of terrorism"
#: the issuer's profile, as the test client reaches it
ISSUER = "http://localhost/credentials/issuer"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Verifying needs nothing from outside: any connection but to this machine fails."""
    connect = socket.socket.connect

    def local_only(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise OSError(f"no network in these tests: {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


def complete_module(app, client, login_as, name="Aïcha Maïga"):
    """A practitioner completes a one-lesson module; the id of their certificate."""
    module_id = build_module(app, lessons=1, post_test=False)
    learner = login_as(name=name)
    enrol_in(client, module_id)
    (lesson,) = lesson_ids(app, module_id)
    lesson_url = f"/courses/modules/{module_id}/lessons/{lesson}"
    post_form(client, lesson_url + "/done", {}, form_url=lesson_url)
    with app.app_context():
        certificate = db.session.scalar(
            select(Certificate).where(Certificate.user_id == learner.id)
        )
        return certificate.id


def download_credential(client, certificate_id) -> str:
    """Press "Download the credential" and take the VC-JWT out of its JSON envelope."""
    response = client.get(f"/courses/certificates/{certificate_id}/credential")
    assert response.status_code == 200
    envelope = response.get_json(force=True)
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    media_type, token = envelope["id"].removeprefix("data:").split(",", 1)
    assert media_type == "application/vc+jwt"
    return token


def published_key_pem(download, issuer: str = ISSUER, kid: str | None = None) -> bytes:
    """The issuer's public key (the one named ``kid``, else the first), fetched with
    ``download`` (an address -> its bytes) from the address that the issuer's profile gives, as
    PEM."""
    profile = json.loads(download(issuer))
    (method, *_) = [m for m in profile["verificationMethod"] if kid in (None, m["id"])]
    jwk = json.loads(download(method["id"]))
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519") and "d" not in jwk
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    public = Ed25519PublicKey.from_public_bytes(raw)
    return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def fetch(client):
    """What a verifier's downloader does, through the test client instead of the network."""

    def download(url: str) -> bytes:
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, url
        return response.data

    return download


def credential_status_ok(download, token: str, issuer: str = ISSUER) -> bool:
    """Whether the credential is not revoked, as a verifier decides it: fetch the status list
    the credential names with ``download``, check its signature with the published key, read
    the bit."""
    credential = jwt.decode(token, options={"verify_signature": False})
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    listed = download(entry["statusListCredential"]).decode()
    key = published_key_pem(download, issuer, jwt.get_unverified_header(listed)["kid"])
    status_list = jwt.decode(listed, key, algorithms=["EdDSA"])
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["issuer"] == credential["issuer"]["id"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")  # multibase, base64url
    data = encoded[1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    assert len(bits) * 8 >= 131_072  # the smallest size, so that a set bit says little
    index = int(entry["statusListIndex"])
    return not bits[index // 8] & (0x80 >> (index % 8))


def keys_of_its_own(app, folder):
    """``app`` signs with a key made in ``folder``/keys by ``flask credentials-key``, so that a
    test may rotate it; the CLI runner that made it."""
    app.config["CREDENTIALS_KEY_FILE"] = str(folder / "keys" / "credentials-ed25519.pem")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["credentials-key"]).exit_code == 0
    return runner


def tampered(token: str, change) -> str:
    """The token with its claims changed by ``change`` and its signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    body = json.dumps(claims, ensure_ascii=False).encode()
    return ".".join([header, base64.urlsafe_b64encode(body).decode().rstrip("="), signature])


def test_the_holder_downloads_the_credential_others_get_404(
    app, client, auth, login_as, create_user
):
    certificate_id = complete_module(app, client, login_as)
    page = client.get(f"/courses/certificates/{certificate_id}").get_data(as_text=True)
    assert "Download the credential (Open Badges 3.0)" in page
    assert f'href="/courses/certificates/{certificate_id}/credential"' in page

    as_json = client.get(f"/courses/certificates/{certificate_id}/credential")
    assert as_json.status_code == 200
    assert as_json.headers["Content-Disposition"].startswith("attachment;")
    assert as_json.headers["Content-Disposition"].endswith('.json"')
    assert "no-store" in as_json.headers["Cache-Control"]
    as_jwt = client.get(f"/courses/certificates/{certificate_id}/credential.jwt")
    assert as_jwt.status_code == 200 and as_jwt.mimetype == "application/vc+jwt"
    assert as_jwt.headers["Content-Disposition"].endswith('.jwt"')
    token = as_jwt.get_data(as_text=True)
    assert download_credential(client, certificate_id) == token  # the same at every download

    credential = jwt.decode(token, options={"verify_signature": False})
    assert credential["credentialSubject"]["identifier"][0]["identityHash"] == "Aïcha Maïga"
    with app.app_context():
        email = db.session.get(Certificate, certificate_id).enrolment.user.email
    assert email not in json.dumps(credential, ensure_ascii=False)  # no e-mail address

    auth.logout()
    other = create_user(role="administrator")
    auth.login(other.email)
    for suffix in ("credential", "credential.jwt"):
        assert client.get(f"/courses/certificates/{certificate_id}/{suffix}").status_code == 404
    assert client.get(f"/courses/certificates/{certificate_id + 1}/credential").status_code == 404
    auth.logout()
    anonymous = client.get(f"/courses/certificates/{certificate_id}/credential")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_credential_verifies_with_the_published_key(app, client, auth, login_as):
    certificate_id = complete_module(app, client, login_as)
    token = download_credential(client, certificate_id)
    auth.logout()  # what follows is what anyone can do

    verified = OB3Verifier(published_key_pem(fetch(client))).verify(token)
    assert verified.achievement.name == MODULE
    assert verified.achievement.description == "How terrorist groups raise, move and use funds."
    assert verified.achievement.criteria_narrative
    assert urlsplit(verified.issuer.id).path == "/credentials/issuer"
    assert verified.issuer.name == "Counter-Terrorism Learning Platform"

    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"]) == ("EdDSA", "vc+jwt")
    assert urlsplit(header["kid"]).path == "/credentials/issuer/keys/1"
    credential = jwt.decode(token, options={"verify_signature": False})
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        assert credential["validFrom"] == certificate.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        # Its id is the certificate's public verification page.
        assert urlsplit(credential["id"]).path == f"/certificates/verify/{certificate.code}"
        assert credential["credentialStatus"]["statusListIndex"] == str(certificate.status_index)
    assert client.get(urlsplit(credential["id"]).path).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda claims: claims["credentialSubject"]["identifier"][0].update(identityHash="Mallory"),
        lambda claims: claims["credentialSubject"]["achievement"].update(name="Another module"),
        lambda claims: claims.update(validFrom="2020-01-01T00:00:00Z"),
    ],
    ids=["name", "module", "date"],
)
def test_a_tampered_credential_fails(app, client, login_as, change):
    certificate_id = complete_module(app, client, login_as)
    token = download_credential(client, certificate_id)
    key = published_key_pem(fetch(client))
    OB3Verifier(key).verify(token)
    with pytest.raises(OB3VerificationError, match="signature"):
        OB3Verifier(key).verify(tampered(token, change))


def test_a_credential_signed_with_another_key_fails(app, client, login_as):
    certificate_id = complete_module(app, client, login_as)
    token = download_credential(client, certificate_id)
    claims = jwt.decode(token, options={"verify_signature": False})
    forger = Ed25519PrivateKey.generate()
    pem = forger.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    forged = jwt.encode(claims, pem, algorithm="EdDSA", headers=jwt.get_unverified_header(token))
    with pytest.raises(OB3VerificationError, match="signature"):
        OB3Verifier(published_key_pem(fetch(client))).verify(forged)


def test_a_credential_revoked_by_a_trainer_shows_in_the_status_list(
    app, client, login_as, create_user, auth
):
    kept_id = complete_module(app, client, login_as, name="Kept Learner")
    kept = download_credential(client, kept_id)
    auth.logout()
    certificate_id = complete_module(app, client, login_as)
    token = download_credential(client, certificate_id)
    auth.logout()
    key = published_key_pem(fetch(client))
    assert credential_status_ok(fetch(client), token) and credential_status_ok(fetch(client), kept)
    OB3Verifier(key).verify(token, check_status=True, download=fetch(client))

    with app.app_context():
        certificate = db.session.get(Certificate, certificate_id)
        module_id, holder = certificate.enrolment.module_id, certificate.enrolment.user.email
    trainer = create_user(role="administrator")
    auth.login(trainer.email)
    revoke_url = f"/courses/manage/{module_id}/certificates/{certificate_id}/revoke"
    assert post_form(client, revoke_url, {"reason": "Issued by mistake"}).status_code == 302
    auth.logout()

    assert not credential_status_ok(fetch(client), token)
    assert credential_status_ok(fetch(client), kept)  # only its own bit is set
    with pytest.raises(OB3VerificationError, match="revocation"):
        OB3Verifier(key).verify(token, check_status=True, download=fetch(client))
    OB3Verifier(key).verify(kept, check_status=True, download=fetch(client))
    auth.login(holder)
    page = client.get(f"/courses/certificates/{certificate_id}").get_data(as_text=True)
    assert "Download the credential (Open Badges 3.0)" not in page


def test_the_issuer_profile_key_and_status_list_are_public_and_stable(app, client):
    profile = client.get("/credentials/issuer")
    assert profile.status_code == 200 and profile.mimetype == "application/ld+json"
    document = profile.get_json(force=True)
    assert document["type"] == ["Profile"]
    assert document["name"] == "Counter-Terrorism Learning Platform"
    assert document["id"] == "http://localhost/credentials/issuer"
    assert document["url"] == "http://localhost/"
    assert client.get("/credentials/issuer").data == profile.data

    key = client.get("/credentials/issuer/keys/1")
    assert key.status_code == 200 and key.mimetype == "application/jwk+json"
    assert key.get_json(force=True) == document["verificationMethod"][0]["publicKeyJwk"]
    assert client.get("/credentials/issuer/keys/1").data == key.data
    assert client.get("/credentials/issuer/keys/2").status_code == 404

    status_list = client.get("/credentials/status/1")
    assert status_list.status_code == 200 and status_list.mimetype == "application/vc+jwt"
    assert "public" in status_list.headers["Cache-Control"]
    assert client.get("/credentials/status/2").status_code == 404


def test_a_new_key_signs_from_then_on_and_the_earlier_one_verifies_until_withdrawn(
    app, client, auth, login_as, tmp_path
):
    runner = keys_of_its_own(app, tmp_path)
    certificate_id = complete_module(app, client, login_as)
    before = download_credential(client, certificate_id)

    made = runner.invoke(args=["credentials-key", "--rotate"])
    assert made.exit_code == 0 and "key 2" in made.output
    assert stat.S_IMODE((tmp_path / "keys" / "credentials-ed25519.2.pem").stat().st_mode) == 0o600
    after = download_credential(client, certificate_id)
    auth.logout()
    kids = [urlsplit(jwt.get_unverified_header(token)["kid"]).path for token in (before, after)]
    assert kids == ["/credentials/issuer/keys/1", "/credentials/issuer/keys/2"]
    profile = client.get("/credentials/issuer").get_json(force=True)
    methods = [urlsplit(method["id"]).path for method in profile["verificationMethod"]]
    assert methods == ["/credentials/issuer/keys/2", "/credentials/issuer/keys/1"]
    for token in (before, after):  # as a verifier does: the key the signature names
        key = published_key_pem(fetch(client), kid=jwt.get_unverified_header(token)["kid"])
        OB3Verifier(key).verify(token, check_status=True, download=fetch(client))
    for number, token in enumerate((before, after), start=1):  # a status list for each key
        claims = jwt.decode(token, options={"verify_signature": False})
        listed = urlsplit(claims["credentialStatus"]["statusListCredential"]).path
        assert listed == f"/credentials/status/{number}"
        signed = client.get(listed).get_data(as_text=True)
        assert urlsplit(jwt.get_unverified_header(signed)["kid"]).path == kids[number - 1]

    refused = runner.invoke(args=["credentials-key", "--withdraw", "2"])
    assert refused.exit_code != 0 and "rotate first" in refused.output
    unknown = runner.invoke(args=["credentials-key", "--withdraw", "7"])
    assert unknown.exit_code != 0 and "no key 7" in unknown.output
    withdrawn = runner.invoke(args=["credentials-key", "--withdraw", "1"])
    assert withdrawn.exit_code == 0 and "no longer verify" in withdrawn.output
    for gone in ("/credentials/issuer/keys/1", "/credentials/status/1"):
        answer = client.get(gone)
        assert answer.status_code == 410 and answer.get_json()["error"] == "withdrawn"
    assert client.get("/credentials/issuer/keys/3").status_code == 404
    profile = client.get("/credentials/issuer").get_json(force=True)
    assert [urlsplit(m["id"]).path for m in profile["verificationMethod"]] == [kids[1]]
    with pytest.raises(ValueError):  # what the first key signed names no published key
        published_key_pem(fetch(client), kid=jwt.get_unverified_header(before)["kid"])
    key = published_key_pem(fetch(client), kid=jwt.get_unverified_header(after)["kid"])
    OB3Verifier(key).verify(after, check_status=True, download=fetch(client))
    again = runner.invoke(args=["credentials-key"])
    assert again.exit_code == 0 and "credentials-ed25519.2.pem" in again.output


def test_the_issuing_office_is_configured(migrated_database, tmp_path):
    from tests.conftest import platform_on_own_database

    with platform_on_own_database(
        migrated_database, tmp_path, CERTIFICATE_ISSUER="Regional Office for Central Asia"
    ) as platform:
        document = platform.test_client().get("/credentials/issuer").get_json(force=True)
    assert document["name"] == "Regional Office for Central Asia"


def test_the_key_is_made_once_outside_the_repository(app, tmp_path, monkeypatch):
    key_file = tmp_path / "elsewhere" / "credentials-ed25519.pem"
    app.config["CREDENTIALS_KEY_FILE"] = str(key_file)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["credentials-key"])
    assert made.exit_code == 0 and "Made" in made.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_bytes()
    again = runner.invoke(args=["credentials-key"])
    assert again.exit_code == 0 and "Made" not in again.output
    assert key_file.read_bytes() == first  # never replaced

    monkeypatch.setenv("CREDENTIALS_KEY_FILE", str(config.PROJECT_ROOT / "keys" / "k.pem"))
    with pytest.raises(config.ConfigurationError, match="CREDENTIALS_KEY_FILE"):
        config.from_environment(config.PROJECT_ROOT / "instance")
    monkeypatch.delenv("CREDENTIALS_KEY_FILE")
    default = config.from_environment(config.PROJECT_ROOT / "instance")["CREDENTIALS_KEY_FILE"]
    assert default == str(config.PROJECT_ROOT / "instance" / "keys" / "credentials-ed25519.pem")
