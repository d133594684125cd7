"""What changed between two access reports: the body of ``kmslint access --diff REV``.

Input: two access reports as plain JSON documents (the shape
``docs/access.schema.json`` describes: ``{"version": 1, "keys": [...]}``),
the old one (the revision) and the new one (the work tree).  Nothing here
reads files or runs git; :mod:`kmslint.gitrev` gives the revision's files.

* A key is identified by its name (``key``); a name that occurs twice in
  either report (two configurations with the same key) is identified by its
  name and file in both.  Keys in one report only are *added* or *removed*,
  with all their access and resources.
* An access entry is identified by (key, ``principal``, ``capability``).
  Entries of one key with the same principal and capability (from a key
  policy and an identity policy, say) are one access: their actions joined,
  the conditions that all of them carry (a condition that one path does not
  require does not limit the access), the widest kind.  Where an entry is
  written (``source``) is not compared: moving a statement changes nothing.
* An entry in both reports is *widened* when the new one drops a condition,
  adds an action, or has a wider kind (:data:`KIND_RANK`: a specific
  principal or a service, then an account root or an unknown principal,
  then another account, then a wildcard); *narrowed* when it only adds
  conditions, removes actions or has a narrower kind.  Both at once is
  widened, with every reason listed.  Only a kind change between kinds of
  the same rank is *changed*.
* A resource (``used_by``) is identified by its name; one that used some
  keys and now uses others *moved* (from, to); one that starts or stops
  using a key that stays is listed under that key.
* Malformed input is read leniently: what is not a dict, a list or a string
  where one belongs is left out, never an exception.

:func:`compute` builds the diff as a JSON-ready dict (``docs/access-diff.schema.json``),
sorted: keys by identity, changes by principal and capability.
:func:`render_text`, :func:`render_markdown` and :func:`render_json` render it;
text from the reports is escaped as every kmslint format escapes it
(:mod:`kmslint.formatters`), and in Markdown every such text is a code span,
so a name cannot add a link, an image, HTML or a mention to a pull-request comment.
:func:`widened` says whether any access was added or widened (``--fail-on-widening``).
"""

from __future__ import annotations

import re

from kmslint.formatters import json_text, terminal

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

VERSION = 1
CAPABILITIES = ("administer", "use", "delegate", "full")
# How far a kind of principal reaches; a change to a higher rank widens the access.
KIND_RANK = {"principal": 0, "service": 0, "account-root": 1, "unknown": 1, "other-account": 2, "wildcard": 3}


# --------------------------------------------------------------------------- reading a report leniently


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    return sorted({v for v in value if isinstance(v, str)}) if isinstance(value, list) else []


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _where(doc: dict[str, Any]) -> dict[str, Any]:
    return {"file": _text(doc.get("file")), "line": _line(doc.get("line"))}


def _wider(a: str, b: str) -> str:
    return a if KIND_RANK.get(a, 1) >= KIND_RANK.get(b, 1) else b


def _accesses(key: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A key's access entries by (principal, capability), duplicates merged."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in _items(key.get("access")):
        principal, capability = _text(entry.get("principal")), _text(entry.get("capability"))
        if principal is None or capability is None:
            continue
        kind = _text(entry.get("kind")) or "unknown"
        actions, conditions = set(_texts(entry.get("actions"))), set(_texts(entry.get("conditions")))
        source = entry.get("source")
        if not isinstance(source, dict):
            source = {}
        where = {"via": _text(source.get("via")), "resource": _text(source.get("resource")), **_where(source)}
        _merge(
            merged,
            (principal, capability),
            {"kind": kind, "actions": actions, "conditions": conditions, "sources": [where]},
        )
    return merged


def _merge(into: dict[tuple[str, str], dict[str, Any]], ident: tuple[str, str], entry: dict[str, Any]) -> None:
    """Add one path to an access: actions joined, the conditions both carry, the wider kind."""
    had = into.get(ident)
    if had is None:
        into[ident] = entry
        return
    had["kind"] = _wider(had["kind"], entry["kind"])
    had["actions"] |= entry["actions"]
    had["conditions"] &= entry["conditions"]
    had["sources"] += entry["sources"]


def _resources(key: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for use in _items(key.get("used_by")):
        name = _text(use.get("resource"))
        if name is not None:
            found.setdefault(name, {"resource": name, "type": _text(use.get("type")), **_where(use)})
    return found


def _keys(report: object) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The report's keys by (name, file); file is filled in later only for ambiguous names."""
    keys: dict[tuple[str, str | None], dict[str, Any]] = {}
    doc = report if isinstance(report, dict) else {}
    for key in _items(doc.get("keys")):
        name = _text(key.get("key"))
        if name is None:
            continue
        ident = (name, _text(key.get("file")))
        if ident in keys:  # the same key twice in one report: one key
            keys[ident]["_docs"].append(key)
        else:
            keys[ident] = {"key": name, **_where(key), "_docs": [key]}
    return keys


def _identify(old: dict[tuple[str, str | None], Any], new: dict[tuple[str, str | None], Any]) -> None:
    """Key the keys of both reports by name, or by (name, file) where a name is ambiguous."""
    counts: dict[str, int] = {}
    for keys in (old, new):
        seen: dict[str, int] = {}
        for name, _file in keys:
            seen[name] = seen.get(name, 0) + 1
        for name, n in seen.items():
            counts[name] = max(counts.get(name, 0), n)
    for keys in (old, new):
        for ident in list(keys):
            key = keys.pop(ident)
            keys[(ident[0], ident[1] if counts[ident[0]] > 1 else None)] = key


def _key_view(key: dict[str, Any]) -> tuple[dict[tuple[str, str], Any], dict[str, Any]]:
    access: dict[tuple[str, str], Any] = {}
    resources: dict[str, Any] = {}
    for doc in key["_docs"]:
        for ident, entry in _accesses(doc).items():
            _merge(access, ident, entry)
        for name, use in _resources(doc).items():
            resources.setdefault(name, use)
    return access, resources


# --------------------------------------------------------------------------- comparing


def _entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": entry["kind"],
        "actions": sorted(entry["actions"]),
        "conditions": sorted(entry["conditions"]),
        "sources": sorted(entry["sources"], key=lambda s: (s["file"] or "", s["line"] or 0, s["resource"] or "")),
    }


# A Deny note names its statement's line (kmslint.access.denials); the line is where it is written,
# which is not compared: a statement moved by an edit above it is the same Deny.
# The note may end a longer condition ("Decrypt, ... only when unless denied by ... (line 9)").
_DENY_LINE = re.compile(r"(unless denied by .+?) \(line \d+\)")


def _unplaced(conditions: set[str]) -> dict[str, str]:
    """Each condition by what is compared of it (a Deny note without its line) -> as written."""
    return {_DENY_LINE.sub(r"\1", c): c for c in sorted(conditions, reverse=True)}


def compare_entry(before: dict[str, Any], after: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(``widened``, ``narrowed``, ``changed`` or None when the same access, the reasons)."""
    wider: list[str] = []
    narrower: list[str] = []
    old, new = _unplaced(before["conditions"]), _unplaced(after["conditions"])
    wider += [f"condition dropped: {old[c]}" for c in sorted(old.keys() - new.keys())]
    wider += [f"action added: {a}" for a in sorted(after["actions"] - before["actions"])]
    narrower += [f"condition added: {new[c]}" for c in sorted(new.keys() - old.keys())]
    narrower += [f"action removed: {a}" for a in sorted(before["actions"] - after["actions"])]
    neutral: list[str] = []
    if before["kind"] != after["kind"]:
        rank_before, rank_after = KIND_RANK.get(before["kind"], 1), KIND_RANK.get(after["kind"], 1)
        said = f"kind: {before['kind']} -> {after['kind']}"
        (wider if rank_after > rank_before else narrower if rank_after < rank_before else neutral).append(said)
    if wider:
        return "widened", wider + narrower
    if narrower:
        return "narrowed", narrower
    if neutral:
        return "changed", neutral
    return None, []


def _access_changes(old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    changes = []
    for ident in sorted(old.keys() | new.keys()):
        before, after = old.get(ident), new.get(ident)
        if before is not None and after is not None:
            change, reasons = compare_entry(before, after)
            if change is None:
                continue
        else:
            change, reasons = ("added" if before is None else "removed"), []
        changes.append(
            {
                "change": change,
                "principal": ident[0],
                "capability": ident[1],
                "before": _entry_json(before) if before is not None else None,
                "after": _entry_json(after) if after is not None else None,
                "reasons": reasons,
            }
        )
    return changes


def _uses(keys: dict[tuple[str, str | None], dict[str, Any]]) -> dict[str, dict[tuple[str, str | None], Any]]:
    """resource name -> {key identity: its use}."""
    uses: dict[str, dict[tuple[str, str | None], Any]] = {}
    for ident, key in keys.items():
        for name, use in key["_resources"].items():
            uses.setdefault(name, {})[ident] = use
    return uses


def _moves(old: dict[tuple[str, str | None], Any], new: dict[tuple[str, str | None], Any]) -> list[dict[str, Any]]:
    """Resources that used some keys and now use others; each other use that starts or stops is
    noted on its key (``_uses_added`` on the new key, ``_uses_removed`` on the old one)."""
    old_uses, new_uses = _uses(old), _uses(new)
    moved = []
    for name in sorted(old_uses.keys() | new_uses.keys()):
        before, after = old_uses.get(name, {}), new_uses.get(name, {})
        gone, came = sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys())
        if gone and came:
            use = after[came[0]]
            moved.append(
                {
                    "resource": name,
                    "type": use["type"],
                    "file": use["file"],
                    "line": use["line"],
                    "from": [old[k]["key"] for k in gone],
                    "to": [new[k]["key"] for k in came],
                }
            )
            continue
        for ident in gone:
            old[ident]["_uses_removed"].append(before[ident])
        for ident in came:
            new[ident]["_uses_added"].append(after[ident])
    return moved


def _prepare(report: object) -> dict[tuple[str, str | None], dict[str, Any]]:
    keys = _keys(report)
    for key in keys.values():
        key["_access"], key["_resources"] = _key_view(key)
        key["_uses_added"], key["_uses_removed"] = [], []
    return keys


def _by_resource(use: dict[str, Any]) -> str:
    return str(use["resource"])


def _key_change(ident: tuple[str, str | None], old: Any, new: Any) -> dict[str, Any] | None:
    key = new if new is not None else old
    status = "changed" if old is not None and new is not None else "added" if old is None else "removed"
    access = _access_changes(old["_access"] if old else {}, new["_access"] if new else {})
    added = new["_uses_added"] if new is not None else []
    removed = old["_uses_removed"] if old is not None else []
    if status == "changed" and not access and not added and not removed:
        return None
    return {
        "key": ident[0],
        "file": key["file"],
        "line": key["line"],
        "status": status,
        "access": access,
        "used_by_added": sorted(added, key=_by_resource),
        "used_by_removed": sorted(removed, key=_by_resource),
    }


def compute(old: object, new: object, *, base: str = "base", head: str = "head") -> dict[str, Any]:
    """The diff from report ``old`` to report ``new`` (JSON-ready; ``docs/access-diff.schema.json``).

    ``base`` and ``head`` name the two sides in the output (``main (1a2b3c4d)``, ``the work tree``).
    """
    before, after = _prepare(old), _prepare(new)
    _identify(before, after)
    moved = _moves(before, after)
    keys = []
    for ident in sorted(before.keys() | after.keys(), key=lambda i: (i[0], i[1] or "")):
        change = _key_change(ident, before.get(ident), after.get(ident))
        if change is not None:
            keys.append(change)
    diff: dict[str, Any] = {"version": VERSION, "base": base, "head": head, "keys": keys, "moved": moved}
    diff["summary"] = _summary(diff)
    diff["widened"] = widened(diff)
    return diff


def _summary(diff: dict[str, Any]) -> dict[str, Any]:
    counts = {"keys_added": 0, "keys_removed": 0, "added": 0, "removed": 0, "widened": 0, "narrowed": 0}
    counts["changed"] = 0
    for key in diff["keys"]:
        if key["status"] in ("added", "removed"):
            counts[f"keys_{key['status']}"] += 1
        for change in key["access"]:
            counts[change["change"]] += 1
    counts["moved"] = len(diff["moved"])
    return counts


def widened(diff: dict[str, Any]) -> bool:
    """Was any access added or widened?  (``--fail-on-widening`` exits 1 when so.)"""
    return any(change["change"] in ("added", "widened") for key in diff.get("keys", []) for change in key["access"])


# --------------------------------------------------------------------------- rendering

_CHANGE_MARK = {"added": "+", "removed": "-", "widened": "^", "narrowed": "v", "changed": "~"}


def _at(file: object, line: object) -> str:
    if not isinstance(file, str):
        return "?"
    return f"{file}:{line}" if isinstance(line, int) else file


def _entry_words(side: dict[str, Any]) -> tuple[str, str, str, str]:
    """(kind, actions, conditions, where) of one side of an access change, unescaped."""
    actions = ", ".join(side["actions"]) or "no actions"
    conditions = " and ".join(side["conditions"]) or "no conditions"
    where = ", ".join(_at(s["file"], s["line"]) for s in side["sources"]) or "?"
    return side["kind"], actions, conditions, where


def _counts_line(summary: dict[str, Any]) -> str:
    return (
        f"Access: {summary['added']} added, {summary['widened']} widened, {summary['narrowed']} narrowed,"
        f" {summary['removed']} removed, {summary['changed']} changed."
        f" Keys: {summary['keys_added']} added, {summary['keys_removed']} removed."
        f" Resources moved to another key: {summary['moved']}."
    )


def render_text(diff: dict[str, Any]) -> str:
    """The diff for a terminal: one block per key, one line per change; input text escaped."""
    t = terminal
    lines = [f"Key access changes from {t(diff['base'])} to {t(diff['head'])}:"]
    if not diff["keys"] and not diff["moved"]:
        lines.append("no change")
    for key in diff["keys"]:
        lines += ["", f"{t(key['key'])} ({t(_at(key['file'], key['line']))}): key {key['status']}"]
        for change in key["access"]:
            side = change["after"] or change["before"]
            kind, actions, conditions, where = _entry_words(side)
            lines.append(
                f"  {_CHANGE_MARK[change['change']]} {change['change']}: {t(change['principal'])}"
                f" can {t(change['capability'])} ({t(kind)}): {t(actions)}; {t(conditions)}; at {t(where)}"
            )
            lines += [f"      {t(reason)}" for reason in change["reasons"]]
        lines += [f"  + now used by {t(u['resource'])} ({t(_at(u['file'], u['line']))})" for u in key["used_by_added"]]
        lines += [f"  - no longer used by {t(u['resource'])}" for u in key["used_by_removed"]]
    if diff["moved"]:
        lines += ["", "Resources moved to another key:"]
        for move in diff["moved"]:
            lines.append(
                f"  {t(move['resource'])} ({t(_at(move['file'], move['line']))}):"
                f" {t(', '.join(move['from']))} -> {t(', '.join(move['to']))}"
            )
    lines += ["", _counts_line(diff["summary"])]
    if diff["widened"]:
        lines.append("Access was added or widened.")
    return "\n".join(lines) + "\n"


def code(text: object) -> str:
    """``text`` as a Markdown code span that is safe in a table cell: escaped as for a terminal,
    ``|`` escaped (GitHub unescapes it inside the span), fenced by more backticks than it holds."""
    body = terminal(str(text)).replace("|", "\\|")
    run = longest = 0
    for char in body:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    if not body:
        return "` `"
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _md_row(change: dict[str, Any]) -> str:
    side = change["after"] or change["before"]
    kind, actions, conditions, where = _entry_words(side)
    why = "<br>".join(code(r) for r in change["reasons"]) or " "
    cells = [
        f"**{change['change']}**" if change["change"] in ("added", "widened") else change["change"],
        code(change["principal"]),
        code(kind),
        change["capability"] if change["capability"] in CAPABILITIES else code(change["capability"]),
        code(actions),
        code(conditions),
        code(where),
        why,
    ]
    return "| " + " | ".join(cells) + " |"


def render_markdown(diff: dict[str, Any]) -> str:
    """The diff for a pull-request comment or ``GITHUB_STEP_SUMMARY``: a table per key."""
    lines = ["## Key access changes", "", f"From {code(diff['base'])} to {code(diff['head'])}.", ""]
    if not diff["keys"] and not diff["moved"]:
        lines += ["No change.", ""]
    for key in diff["keys"]:
        lines += [f"### {code(key['key'])} ({code(_at(key['file'], key['line']))}): key {key['status']}", ""]
        if key["access"]:
            lines.append("| Change | Principal | Kind | Capability | Actions | Conditions | Where | Why |")
            lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
            lines += [_md_row(change) for change in key["access"]]
            lines.append("")
        for use in key["used_by_added"]:
            lines.append(f"- now used by {code(use['resource'])} ({code(_at(use['file'], use['line']))})")
        lines += [f"- no longer used by {code(use['resource'])}" for use in key["used_by_removed"]]
        if key["used_by_added"] or key["used_by_removed"]:
            lines.append("")
    if diff["moved"]:
        lines += [
            "### Resources moved to another key",
            "",
            "| Resource | Where | From | To |",
            "| --- | --- | --- | --- |",
        ]
        for move in diff["moved"]:
            cells = [move["resource"], _at(move["file"], move["line"]), ", ".join(move["from"]), ", ".join(move["to"])]
            lines.append("| " + " | ".join(code(c) for c in cells) + " |")
        lines.append("")
    lines.append(_counts_line(diff["summary"]))
    if diff["widened"]:
        lines += ["", "**Access was added or widened.**"]
    return "\n".join(lines) + "\n"


def render_json(diff: dict[str, Any]) -> str:
    """The diff as JSON (``docs/access-diff.schema.json``), escaped as ``--format json`` is."""
    return json_text(diff)
