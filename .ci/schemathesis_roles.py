"""Schemathesis hooks: one run covers every role.

`.ci/schemathesis.sh` logs in one user of each role and passes their access tokens in
`ST_ROLE_TOKENS` (space-separated). Each generated request carries the next token in turn, so a
single run per database sends every operation's cases as an account manager, a supervisor, a
sub-branch manager, a branch manager and an admin; the `ignored_auth` check sends them without
a token too (what a separate anonymous run used to do).
"""

import itertools
import os

import schemathesis

_TOKENS = os.environ.get("ST_ROLE_TOKENS", "").split()
if not _TOKENS:
    raise RuntimeError("ST_ROLE_TOKENS is empty: .ci/schemathesis.sh logs the roles in")
_NEXT = itertools.cycle(_TOKENS)


@schemathesis.auth(refresh_interval=None)
class EachRoleInTurn:
    def get(self, case, context):
        return next(_NEXT)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
