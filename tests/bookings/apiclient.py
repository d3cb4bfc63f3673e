"""A tiny JSON client for API tests, authenticated with a real Bearer token."""

from __future__ import annotations

import json


class Api:
    def __init__(self, client, user):
        from bookdesk.accounts.tokens import token_create

        self.client = client
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='tests').raw}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, **self.auth)

    def post(self, path, body=None):
        return self.client.post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", **self.auth
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", **self.auth
        )

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", **self.auth)


def api_for(client, user) -> Api:
    return Api(client, user)
