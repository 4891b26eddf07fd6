"""An import-linter contract for the private parts of the libraries we run on.

import-linter sees an external package as one node (`sanic`), so its own contracts can
forbid `sanic` but not `sanic.server`. This contract reads the import statements the
graph records for each import of a package (`line_contents`) and names the module
each one reaches: `from sanic.worker.manager import WorkerManager` reaches
`sanic.worker.manager`, `from sanic import server` reaches `sanic.server`.

    [[tool.importlinter.contracts]]
    type = "internals"
    internals = ["sanic.server", "sanic_ext.extensions"]
    allowed_importers = ["app.compat"]
"""

from __future__ import annotations

import re
from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output

_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?\s*([\w\s,]*)")
_IMPORT = re.compile(r"^\s*import\s+([\w.,\s]+?)(?:\s+as\s+\w+)?\s*$")


def reached(line: str) -> set[str]:
    """The modules an import statement may reach (a `from` names its module and each
    name under it, since a name may be a submodule)."""
    found = _FROM.match(line)
    if found:
        module = found.group(1)
        names = [name.strip() for name in found.group(2).split(",") if name.strip()]
        return {module, *(f"{module}.{name.split()[0]}" for name in names)}
    found = _IMPORT.match(line)
    if found:
        return {name.split()[0] for name in found.group(1).split(",") if name.strip()}
    return set()


def _within(module: str, packages: list[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


class InternalsContract(Contract):
    """Only `allowed_importers` (and their submodules) import `internals`."""

    type_name = "internals"

    internals = fields.ListField(subfield=fields.StringField())
    allowed_importers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        internals = self._names("internals")
        allowed = self._names("allowed_importers")
        roots = {name.split(".", 1)[0] for name in internals}
        illegal: list[dict[str, Any]] = []
        for root in sorted(roots):
            if root not in graph.modules:
                continue
            for importer in sorted(graph.find_modules_that_directly_import(root)):
                if _within(importer, allowed):
                    continue
                for detail in graph.get_import_details(importer=importer, imported=root):
                    hit = sorted(
                        m for m in reached(detail["line_contents"]) if _within(m, internals)
                    )
                    if hit:
                        illegal.append(
                            {"importer": importer, "line": detail["line_number"], "imported": hit}
                        )
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def _names(self, option: str) -> list[str]:
        """An option's parsed value (import-linter types its fields as the field
        classes, not as what they hold)."""
        value = getattr(self, option)
        if not isinstance(value, list):
            raise TypeError(f"{option} must be a list of module names")
        return [str(name) for name in value]

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["illegal"]:
            output.print_error(
                f"- {item['importer']} (l.{item['line']}) imports {', '.join(item['imported'])}",
                bold=False,
            )
        output.new_line()
