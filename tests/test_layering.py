"""The import layers, read from the source (AST only: nothing here imports the modules).

From the bottom up: ``rtmo_ort`` (numpy, OpenCV, onnxruntime) < the library (``rtmo_plugin``
outside ``lab/``) < the harness (``rtmo_plugin.lab``) < ``tools/`` and ``projects/``.

Rules checked on every ``import`` / ``from ... import`` statement, at module level or inside
functions (a function-level import is still a dependency, only a later one):

- the library never imports the harness; entry points (modules named ``__main__.py``) may;
- no import cycle among ``rtmo_plugin`` modules. An edge ``A -> B`` means A names B in an
  import statement (``from pkg import name`` names ``pkg.name`` when that is a module, else
  ``pkg``). Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``, but that implicit
  parent step is not an edge: otherwise every package ``__init__`` that imports its children
  (``rtmo_plugin/__init__`` registers everything) would close a cycle with each child. A child
  that names its own package (``from . import X``) is an edge to the ``__init__``, so a package
  ``__init__`` importing a child that imports it back *is* a cycle;
- nothing in ``rtmo_plugin`` or ``rtmo_ort`` imports ``projects`` or ``tools``;
- ``rtmo_ort`` imports nothing from ``rtmo_plugin``, torch or OpenMMLab.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Set

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ('rtmo_plugin', 'rtmo_ort')
HARNESS = 'rtmo_plugin.lab'
# top-level names rtmo_ort must not import: the plugin, torch and OpenMMLab's packages
ORT_FORBIDDEN = ('rtmo_plugin', 'torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet', 'mmpose',
                 'mmpretrain', 'mmdeploy')


class Import(NamedTuple):
    module: str  # the importing module, e.g. 'rtmo_plugin.lab.benchmark'
    path: Path
    line: int
    target: str  # the module named, resolved: 'rtmo_plugin.deploy.export'


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def source_files(root: Path) -> Iterator[Path]:
    for package in PACKAGES:
        # '.mim' holds links to configs/ and tools/ for mim, not modules of the package
        yield from sorted(path for path in (root / package).rglob('*.py')
                          if not any(part.startswith('.') for part in path.relative_to(root).parts))


def imports_of(root: Path, path: Path) -> Iterator[Import]:
    """Every import in ``path`` (any depth), relative ones resolved to absolute names."""
    module = module_name(root, path)
    is_package = path.name == '__init__.py'
    known = {module_name(root, p) for p in source_files(root)}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # the package a relative import starts from: the module's own package (or the
                # package itself for an __init__), then one step up per extra dot
                base = module.split('.') if is_package else module.split('.')[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = '.'.join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                child = f'{source}.{alias.name}'
                yield Import(module, path, node.lineno, child if child in known else source)


def all_imports(root: Path) -> List[Import]:
    return [imp for path in source_files(root) for imp in imports_of(root, path)]


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + '.')


def where(imp: Import, root: Path) -> str:
    return f'{imp.path.relative_to(root)}:{imp.line} imports {imp.target}'


def library_imports_of_harness(root: Path) -> List[str]:
    return [where(imp, root) for imp in all_imports(root)
            if under(imp.module, 'rtmo_plugin') and not under(imp.module, HARNESS)
            and imp.path.name != '__main__.py' and under(imp.target, HARNESS)]


def import_cycles(root: Path) -> List[List[str]]:
    """The strongly connected components (Tarjan) of more than one module, or with a self edge,
    of the graph of imports among ``rtmo_plugin`` modules."""
    graph: Dict[str, Set[str]] = {}
    for imp in all_imports(root):
        if under(imp.module, 'rtmo_plugin') and under(imp.target, 'rtmo_plugin'):
            graph.setdefault(imp.module, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def imports_of_projects_or_tools(root: Path) -> List[str]:
    return [where(imp, root) for imp in all_imports(root)
            if under(imp.target, 'projects') or under(imp.target, 'tools')]


def rtmo_ort_forbidden_imports(root: Path) -> List[str]:
    return [where(imp, root) for imp in all_imports(root) if under(imp.module, 'rtmo_ort')
            and any(under(imp.target, name) for name in ORT_FORBIDDEN)]


def test_library_does_not_import_the_harness():
    assert library_imports_of_harness(REPO) == []


def test_no_import_cycle_in_rtmo_plugin():
    assert import_cycles(REPO) == []


def test_core_does_not_import_projects_or_tools():
    assert imports_of_projects_or_tools(REPO) == []


def test_rtmo_ort_imports_no_plugin_torch_or_openmmlab():
    assert rtmo_ort_forbidden_imports(REPO) == []


def planted(tmp_path: Path, name: str, *lines: str) -> Path:
    """A copy of the two packages under ``tmp_path / name`` with each ``'file: statement'`` of
    ``lines`` added to that file inside a function (a function-level import)."""
    root = tmp_path / name
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, symlinks=True,
                        ignore=shutil.ignore_patterns('__pycache__'))
    for line in lines:
        relative, statement = line.split(': ')
        path = root / relative
        path.write_text(path.read_text() + f'\n\ndef _planted():\n    {statement}\n')
    return root


def test_each_rule_catches_a_planted_violation(tmp_path):
    """One bad import added per rule to a copy of the packages: each check names it."""
    root = planted(tmp_path, 'harness', 'rtmo_plugin/metainfo.py: from .lab import builders')
    last_line = len((root / 'rtmo_plugin/metainfo.py').read_text().splitlines())
    assert library_imports_of_harness(root) == [
        f'rtmo_plugin/metainfo.py:{last_line} imports rtmo_plugin.lab.builders']

    root = planted(tmp_path, 'cycle',
                   'rtmo_plugin/utils.py: from .metainfo import head_keypoint_setup')
    assert ['rtmo_plugin.metainfo', 'rtmo_plugin.utils'] in import_cycles(root)
    # a child naming its own package's __init__, which imports the child
    root = planted(tmp_path, 'init_cycle',
                   'rtmo_plugin/models/mle_loss.py: from . import RTMOPoseHead')
    assert ['rtmo_plugin.models', 'rtmo_plugin.models.mle_loss'] in import_cycles(root)

    root = planted(tmp_path, 'up', 'rtmo_plugin/build.py: import projects.rtmw3d',
                   'rtmo_ort/__main__.py: from tools import train')
    assert [text.split(' imports ')[1] for text in imports_of_projects_or_tools(root)] == [
        'projects.rtmw3d', 'tools']

    root = planted(tmp_path, 'ort', 'rtmo_ort/__init__.py: import torch.nn',
                   'rtmo_ort/__main__.py: from rtmo_plugin.utils import unwrap')
    assert [text.split(' imports ')[1] for text in rtmo_ort_forbidden_imports(root)] == [
        'torch.nn', 'rtmo_plugin.utils']
