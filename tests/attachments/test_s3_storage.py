"""Attachments in an S3-compatible bucket (UPLOADS_STORAGE=s3), as several app hosts share
them: stored as private objects, handed out as short-lived signed redirects after the same
permission check, removed with their rows, and watched by /readyz.

The bucket is a real S3 API over HTTP on loopback: moto's server mode, which stands in for
the cloud service here. boto3 and django-storages talk to it exactly as to AWS (signed
requests, presigned URLs), only the endpoint differs. moto refuses unsigned reads, but it
checks neither a URL's signature nor its expiry; those are AWS's own, so the tests check
what the app puts into the URL (its lifetime, its signing time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from bookdesk.attachments.models import Attachment
from bookdesk.ops import readiness
from tests.attachments import samples
from tests.attachments.test_api import post_file, stored_files
from tests.conftest import free_port

BUCKET = "bookdesk-test-uploads"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3 server on a free loopback port, with one empty bucket."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = Path(sys.executable).with_name("moto_server")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a busy machine starts it slowly
        while True:
            try:
                requests.get(endpoint, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"moto_server did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)


def object_keys(endpoint: str) -> list[str]:
    found = client(endpoint).list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return [item["Key"] for item in found]


def s3_storages(endpoint: str, *, url_seconds: int = 60) -> dict:
    """STORAGES as settings.py builds it for UPLOADS_STORAGE=s3, pointed at the test server."""
    from django.conf import settings

    return {
        **{k: v for k, v in settings.STORAGES.items() if k != "uploads"},
        "uploads": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": "uploads",
                "region_name": "us-east-1",
                "endpoint_url": endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "signature_version": "s3v4",
                "default_acl": None,
                "file_overwrite": True,
                "querystring_auth": True,
                "querystring_expire": url_seconds,
                "object_parameters": {"CacheControl": "private, no-store"},
            },
        },
    }


@pytest.fixture
def in_bucket(settings, s3_endpoint):
    settings.UPLOADS_STORAGE = "s3"
    settings.UPLOADS_S3_BUCKET = BUCKET
    settings.UPLOADS_S3_URL_SECONDS = 60
    settings.STORAGES = s3_storages(s3_endpoint)
    for key in object_keys(s3_endpoint):
        client(s3_endpoint).delete_object(Bucket=BUCKET, Key=key)
    return s3_endpoint


def test_an_upload_becomes_a_private_object_and_nothing_on_disk(
    as_user, alice, booking, uploads_root, in_bucket
):
    response = post_file(as_user(alice), booking, samples.pdf())
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    name = attachment.stored_name
    key = f"uploads/{name[:2]}/{name[2:4]}/{name}"
    assert object_keys(in_bucket) == [key]
    body = client(in_bucket).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == samples.pdf()
    assert attachment.size == len(body)
    assert stored_files(uploads_root) == []
    # Not readable without a signature.
    assert requests.get(f"{in_bucket}/{BUCKET}/{key}", timeout=5).status_code == 403


def test_a_permitted_download_is_a_short_lived_signed_redirect(
    as_user, alice, bob, booking, in_bucket
):
    attachment_id = post_file(as_user(alice), booking, samples.pdf(), name="Brief März.pdf").json()[
        "id"
    ]
    response = as_user(bob).get(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    url = response["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "X-Amz-Signature" in query
    # The browser follows it to the bucket, which answers with the headers the app signed.
    download = requests.get(url, timeout=5)
    assert download.status_code == 200
    assert download.content == samples.pdf()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Brief Marz.pdf\"; filename*=UTF-8''Brief%20M%C3%A4rz.pdf"
    )


def test_the_signed_url_lives_as_long_as_the_setting_says(
    settings, as_user, alice, bob, booking, in_bucket
):
    settings.UPLOADS_S3_URL_SECONDS = 5
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    url = as_user(bob).get(f"/api/v1/attachments/{attachment_id}")["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["5"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60, "signed now, per request"


def test_a_stranger_gets_404_and_no_url(as_user, alice, dave, booking, in_bucket):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    response = as_user(dave).get(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 404
    assert "Location" not in response
    assert "X-Amz" not in response.content.decode()


def test_deleting_the_attachment_removes_the_object(
    as_user, alice, booking, in_bucket, django_capture_on_commit_callbacks
):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    assert len(object_keys(in_bucket)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert as_user(alice).delete(f"/api/v1/attachments/{attachment_id}").status_code == 204
    assert object_keys(in_bucket) == []


def test_readiness_probes_the_bucket_instead_of_a_disk(client, db, settings, in_bucket):
    cache.clear()
    readiness._migrations_applied = False
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["uploads:bucket"][0]["status"] == "pass"
    assert not {"uploads:writable", "uploads:freeSpace"} & set(body["checks"])


def test_an_unreachable_bucket_warns_but_keeps_the_instance_in(client, db, settings, in_bucket):
    cache.clear()
    readiness._migrations_applied = False
    settings.STORAGES = s3_storages(f"http://127.0.0.1:{free_port()}")
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    [result] = response.json()["checks"]["uploads:bucket"]
    assert result["status"] == "warn"
    assert response.status_code == 200


def test_the_orphans_command_says_it_does_not_apply(db, in_bucket):
    with pytest.raises(CommandError, match="UPLOADS_STORAGE=s3"):
        call_command("uploads_orphans")


def run_settings(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.STORAGES['uploads']['OPTIONS'], default=str))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UPLOADS_")}
    environ.update(DJANGO_SETTINGS_MODULE="bookdesk.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.static
def test_settings_build_the_bucket_storage_from_the_environment():
    done = run_settings(
        UPLOADS_STORAGE="s3",
        UPLOADS_S3_BUCKET="bookdesk-production-uploads-1",
        UPLOADS_S3_REGION="eu-central-1",
        UPLOADS_S3_URL_SECONDS="30",
    )
    assert done.returncode == 0, done.stderr
    options = __import__("json").loads(done.stdout)
    assert options["bucket_name"] == "bookdesk-production-uploads-1"
    assert options["region_name"] == "eu-central-1"
    assert options["querystring_expire"] == 30
    assert options["default_acl"] is None
    assert options["access_key"] is None, "on AWS the instance role signs, no key is stored"


@pytest.mark.static
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UPLOADS_STORAGE": "s3"}, "UPLOADS_S3_BUCKET is required"),
        ({"UPLOADS_STORAGE": "ftp"}, "UPLOADS_STORAGE must be filesystem or s3"),
        (
            {"UPLOADS_STORAGE": "s3", "UPLOADS_S3_BUCKET": "b", "UPLOADS_S3_URL_SECONDS": "86400"},
            "UPLOADS_S3_URL_SECONDS must be between 1 and 3600",
        ),
    ],
)
def test_bad_storage_settings_stop_start_up_with_one_line(env, message):
    done = run_settings(**env)
    assert done.returncode != 0
    assert message in done.stderr
