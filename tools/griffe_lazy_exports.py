"""Griffe extension for the bayescount docs site (loaded by mkdocstrings, see mkdocs.yml).

It does two things at documentation time, without touching the package:

* **Lazy exports.** ``bayescount/__init__.py`` imports its public names on first use
  (PEP 562): the module holds a ``_EXPORTS`` table (public name -> (module, attribute))
  and a ``__getattr__``, but no import statements, so static analysis sees an
  ``__all__`` whose names are not defined. The table is read from the source and one
  alias is added per name (``bayescount.CountModel`` ->
  ``bayescount.count_model.CountModel``), so ``::: bayescount.CountModel`` blocks and
  cross-references such as ``[CountModel][bayescount.CountModel]`` resolve.
* **Sphinx roles.** The numpydoc docstrings cross-reference with Sphinx roles
  (``:class:`~bayescount.prep.schema.CountSchema```), which Markdown would show
  verbatim. Each role becomes an optional autorefs cross-reference: a link where the
  target is documented on the site, code text elsewhere. A role naming a
  ``bayescount`` object that does not exist is a warning, so ``mkdocs build --strict``
  fails on a stale reference. A reST ``::`` that introduces a literal block becomes
  ``:`` (the indented block is already a Markdown code block).
"""

from __future__ import annotations

import ast
import builtins
import re
from typing import Any

import griffe

PACKAGE = "bayescount"
TABLE = "_EXPORTS"

#: ``:class:`~pkg.Name``` / ``:func:`title <pkg.name>``` (optionally ``:py:class:``).
ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|mod|attr|data|exc|obj|const):"
    r"`(?P<body>[^`]+)`"
)
LITERAL_MARKER = re.compile(r"(?m)(\S)::$|^(\s*)::$")


def lazy_exports(source: str) -> dict[str, tuple[str, str]]:
    """Return the ``_EXPORTS`` table assigned in a module's source.

    Parameters
    ----------
    source : str
        Source text of the package's ``__init__.py``.

    Returns
    -------
    dict of str to (str, str)
        Public name -> (defining module, attribute name); empty when the module has no
        such table.
    """
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == TABLE for t in targets) and node.value:
                return ast.literal_eval(node.value)
    return {}


def _split_role(body: str) -> tuple[str, str]:
    """Return (title, target) of a role body: ``~a.b`` -> (b, a.b); ``t <a.b>`` -> (t, a.b)."""
    explicit = re.fullmatch(r"(?s)(.*?)\s*<([^>]+)>", body)
    if explicit:
        return explicit.group(1), explicit.group(2)
    target = body.lstrip("!")
    if target.startswith("~"):
        target = target[1:]
        return target.rsplit(".", 1)[-1], target
    return target, target


def _exists(collection: griffe.ModulesCollection, path: str) -> bool:
    try:
        collection[path]
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """Full path of a role target seen from ``obj``; None when it cannot be resolved."""
    collection = obj.modules_collection
    if target.startswith(f"{PACKAGE}.") or target == PACKAGE:
        return target if _exists(collection, target) else None
    head, _, rest = target.partition(".")
    try:
        base = obj.resolve(head)
    except griffe.NameResolutionError:
        return None
    path = f"{base}.{rest}" if rest else base
    return path if _exists(collection, path) else None


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        title, target = _split_role(match.group("body"))
        title = title.strip()
        if match.group("role") in {"func", "meth"} and not title.endswith(")"):
            title = f"{title}()"
        path = _resolve(obj, target)
        if path is None:
            if hasattr(builtins, target):  # ValueError, FutureWarning: Python's own
                return f"`{title}`"
            if target.startswith(f"{PACKAGE}.") or "." not in target:
                where = f"{obj.relative_filepath}:{obj.docstring.lineno if obj.docstring else 0}"
                griffe.logger.warning(
                    "%s: cross-reference %s does not resolve to a bayescount object",
                    where,
                    match.group(0),
                )
            return f"`{title}`"
        return f'<autoref identifier="{path}" optional><code>{title}</code></autoref>'

    text = ROLE.sub(replace, text)
    return LITERAL_MARKER.sub(lambda m: f"{m.group(1)}:" if m.group(1) else "", text)


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


class LazyExports(griffe.Extension):
    """Add aliases for the lazy top-level names and turn Sphinx roles into autorefs."""

    def on_package(
        self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any
    ) -> None:
        """Run once the package and all its submodules are loaded."""
        if pkg.path != PACKAGE or pkg.filepath is None or isinstance(pkg.filepath, list):
            return
        for name, (module, attr) in lazy_exports(pkg.filepath.read_text()).items():
            if name not in pkg.members:
                pkg.set_member(name, griffe.Alias(name, f"{module}.{attr}", parent=pkg))
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
