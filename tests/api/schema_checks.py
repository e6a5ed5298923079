"""Schemathesis checks of our own, passed where wanted as ``additional_checks`` (not registered with
``@schemathesis.check``, which would run them on every operation of every suite)."""


def refusals_are_declared(ctx, response, case):
    """A request the schema calls valid may still be refused (an area code that does not exist, an end before its
    start), but only for a rule the operation's 400 declares, in backticks, under each field the error names: a
    client generated from the schema is never surprised by a 400."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    declared = case.operation.definition.raw.get("responses", {}).get("400", {}).get("description", "")
    error = response.json()["error"]
    undeclared = [name for name in error["fields"] if f"`{field_root(name)}`" not in declared]
    if undeclared or not error["fields"]:
        raise AssertionError(f"Schema-valid input refused for a rule the schema does not declare: "
                             f"{undeclared or 'no field named'}: {error['message']} {error['fields']}")
    return None


def field_root(name: str) -> str:
    """``data.age`` and ``location.latitude`` are declared by ``data`` and ``location``."""
    return name.split(".", 1)[0]
