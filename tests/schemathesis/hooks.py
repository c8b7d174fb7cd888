"""Schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

Made-up ids only ever reach the 404 answers. So that the 200 answers, whose bodies are the
larger part of the document, are checked too, path parameters are drawn either as generated or
from the ids of the resources that seed.py created (PLUGBOARD_SCHEMATHESIS_SEEDS), and so is the
activation token in the body of activate-integration. Hypothesis draws the choice, so a fixed
seed still makes a fixed run.
"""

from __future__ import annotations

import json
import os

import schemathesis
from hypothesis import strategies as st

_path = os.environ.get("PLUGBOARD_SCHEMATHESIS_SEEDS")
SEEDS: dict[str, list[str]] = json.load(open(_path, encoding="utf-8")) if _path else {}


def _seeded(method: str, name: str) -> list[str]:
    # DELETE gets an integration of its own, so the others keep theirs for the whole run.
    if method == "DELETE" and name == "integration_id":
        return SEEDS.get("integration_id_to_delete", [])
    return SEEDS.get(name, [])


@schemathesis.hook
def before_generate_path_parameters(context, strategy):
    operation = context.operation
    if operation is None:
        return strategy
    method = operation.method.upper()
    names = [parameter.name for parameter in operation.path_parameters]
    choices = {name: _seeded(method, name) for name in names}
    if not names or not all(choices.values()):
        return strategy
    known = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in choices.items()})
    return st.one_of(strategy, known)


@schemathesis.hook
def before_generate_body(context, strategy):
    operation = context.operation
    tokens = SEEDS.get("activate_token", [])
    if operation is None or operation.path != "/v1/connect/activate-integration" or not tokens:
        return strategy
    return st.one_of(strategy, st.sampled_from(tokens).map(lambda token: {"token": token}))
