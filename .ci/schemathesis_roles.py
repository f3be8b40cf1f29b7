"""Schemathesis hooks: one run covers every role.

`.ci/schemathesis.sh` logs in one user of each role and passes their access tokens in
`ST_ROLE_TOKENS` as space-separated `role=token` pairs. In the examples, coverage and fuzzing
phases each generated request carries the next role's token in turn, so a single run per database
sends every operation's cases as an account manager, a supervisor, a sub-branch manager, a branch
manager and an admin; the `ignored_auth` check sends them without a token too (what a separate
anonymous run used to do). A stateful scenario (create, then read, change, delete what was made)
is one person's work, so that phase runs as the branch manager: a draft another role may not see
is a correct 404, not a lost resource.
"""

import itertools
import os

import schemathesis

_TOKENS = dict(pair.split("=", 1) for pair in os.environ.get("ST_ROLE_TOKENS", "").split())
if len(_TOKENS) < 5 or "branch_manager" not in _TOKENS:
    raise RuntimeError("ST_ROLE_TOKENS lacks roles: .ci/schemathesis.sh logs each role in")
_NEXT = itertools.cycle(list(_TOKENS.values()))


@schemathesis.auth(refresh_interval=None)
class EachRoleInTurn:
    def get(self, case, context):
        meta = getattr(case, "meta", None)
        if meta is not None and meta.phase.name == "stateful":
            return _TOKENS["branch_manager"]
        return next(_NEXT)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
