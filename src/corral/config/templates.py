"""Templates: each `template: templateRef:` use in a pipeline replaced by the version it names.

A use is a stage, a step, a step group or the pipeline itself, as Harness writes it:

    - stage:
        name: Deploy
        identifier: deploy
        template:
          templateRef: account.ecs_deploy    # account. / org. / project. name this project's own
          versionLabel: "1"                   # absent: the stable version ("always use stable")
          templateInputs:                     # values for the template's <+input> fields
            type: Deployment
            spec: {service: {serviceRef: web}}

The template's `spec` takes the use's place, under the use's `name` and `identifier`. Each
`<+input>` of the template that templateInputs gives a value takes it; one given as `<+input>`,
or not given, stays a run-time input of the pipeline (asked when it runs). templateInputs may
give values to nothing else. Templates used inside a template are resolved the same way, and a
cycle is an error. The result is an ordinary pipeline: the engine never sees a template, and the
snapshot an execution takes when it starts holds the resolved pipeline, so editing a template
later changes no execution already started.

Problems name the file and YAML path where the wrong thing was written: the use (in the pipeline
or in the template that holds it) for a missing template or version, the template's own file for
a problem inside the template (`Origins` maps the resolved pipeline back to what was written).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import TypeAdapter, ValidationError

from corral.config.list_items import matching_index
from corral.errors import ExpressionError, Problem, format_path
from corral.expressions import find_inputs
from corral.expressions.inputs import check_input_value
from corral.yaml_limits import MAX_NODES

from .entities.common import is_runtime_input, strip_scope
from .entities.pipeline import Pipeline, StageElement, StepElement
from .entities.template import Template
from .problems import problems_from_validation, split_path

if TYPE_CHECKING:
    from .project import Project
    from .yaml_source import Document

Path = tuple[str | int, ...]
WRAPPERS = {"stage": "Stage", "step": "Step", "stepGroup": "StepGroup"}
# what a stage, step or step group use holds beside `template` (TemplateStageNode / TemplateStepNode
# in harness-schema, and the fields Harness lets a use override)
USE_FIELDS = (
    "name",
    "identifier",
    "description",
    "template",
    "tags",
    "when",
    "failureStrategies",
    "strategy",
    "delegateSelectors",
    "timeout",
)
LINK_FIELDS = ("templateRef", "versionLabel", "templateInputs")
# Templates that use templates several times multiply (a "billion laughs" of uses): a pipeline
# may resolve to at most as many YAML nodes as one file may hold with its aliases expanded.
MAX_RESOLVED_NODES = MAX_NODES
_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


class Source(Protocol):
    """Something written in a file: `where(path)` is `file:line` of a YAML path in it."""

    def where(self, path: Path = ()) -> str: ...


@dataclass
class DocumentSource:
    """A document not (yet) an entity: the pipeline being read."""

    document: Document

    def where(self, path: Path = ()) -> str:
        return f"{self.document.file}:{self.document.line_of(path)}"


@dataclass
class Origins:
    """Where each part of a resolved pipeline was written: the longest recorded prefix of a
    path says which file (pipeline or template) and which path there."""

    spans: dict[Path, tuple[Source, Path]] = field(default_factory=dict)

    def written(self, parts: Path) -> tuple[Source, Path] | None:
        for size in range(len(parts), -1, -1):
            hit = self.spans.get(tuple(parts[:size]))
            if hit is not None:
                source, base = hit
                return source, (*base, *parts[size:])
        return None

    def where(self, parts: Path) -> str:
        found = self.written(tuple(parts))
        return found[0].where(found[1]) if found else ""

    def translate(self, problems: Iterable[Problem]) -> list[Problem]:
        """Problems found in the resolved pipeline, placed where their part was written."""
        out = []
        for problem in problems:
            found = self.written(split_path(problem.path))
            if found is None:
                out.append(problem)
                continue
            source, parts = found
            out.append(Problem(source.where(parts), format_path(parts), problem.message))
        return out


def uses_templates(value: Any) -> bool:
    """True when a `template:` with a `templateRef` appears anywhere in value."""
    if isinstance(value, dict):
        link = value.get("template")
        if isinstance(link, dict) and "templateRef" in link:
            return True
        return any(uses_templates(item) for item in value.values())
    if isinstance(value, list):
        return any(uses_templates(item) for item in value)
    return False


def resolve_pipeline(project: Project, document: Document, body: Any) -> tuple[Any, Origins, list[Problem]]:
    """The `pipeline:` mapping with every template use resolved, where its parts were written,
    and the problems of its uses (a missing template or version, a cycle, bad templateInputs)."""
    resolver = Resolver(project)
    source = DocumentSource(document)
    resolver.origins.spans[("pipeline",)] = (source, ("pipeline",))
    if isinstance(body, dict) and isinstance(body.get("template"), dict):
        resolved = resolver.use(body, "Pipeline", ("pipeline",), source, ("pipeline",), (), None)
    else:
        resolved = resolver.walk(body, ("pipeline",), source, ("pipeline",), (), None)
    return resolved, resolver.origins, resolver.problems


class Resolver:
    def __init__(self, project: Project) -> None:
        self.templates = project.templates
        self.broken = project.broken
        self.stable = project.settings.project.templates.stable
        self.origins = Origins()
        self.problems: list[Problem] = []
        # (id of a template, path in it) -> where a use's templateInputs wrote the value it holds
        self.provenance: dict[tuple[int, Path], tuple[Source, Path]] = {}
        self.resolved_nodes = 0  # what the uses resolved so far put into the pipeline
        self.too_big = False

    # -- walking: a resolved path, and where the same node was written ----------------------

    def walk(
        self,
        value: Any,
        path: Path,
        source: Source,
        spath: Path,
        stack: tuple[Template, ...],
        stage_type: Any,
    ) -> Any:
        if isinstance(value, list):
            return [
                self.walk(item, (*path, i), source, (*spath, i), stack, stage_type)
                for i, item in enumerate(value)
            ]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            here, there = (*path, key), (*spath, key)
            if key in WRAPPERS and isinstance(item, dict) and isinstance(item.get("template"), dict):
                out[key] = self.use(item, WRAPPERS[key], here, source, there, stack, stage_type)
            else:
                inner = item.get("type") if key == "stage" and isinstance(item, dict) else stage_type
                out[key] = self.walk(item, here, source, there, stack, inner)
        return out

    def use(
        self,
        node: dict[str, Any],
        kind: str,
        path: Path,
        source: Source,
        spath: Path,
        stack: tuple[Template, ...],
        stage_type: Any,
    ) -> Any:
        """The template a use names, resolved in its place (the use unchanged when it cannot be)."""
        link = node["template"]
        if self.too_big:
            return node
        before = len(self.problems)
        if kind != "Pipeline":
            self._unknown(node, USE_FIELDS, source, spath, f"a {kind.lower()} that uses a template")
        self._unknown(link, LINK_FIELDS, source, (*spath, "template"), "template")
        template = self.find(link, source, (*spath, "template"))
        if template is None or len(self.problems) > before:
            return node
        seen = [t is template for t in stack]
        if any(seen):
            chain = " → ".join(_named(t) for t in (*stack[seen.index(True) :], template))
            self._problem(
                source, (*spath, "template", "templateRef"), f"templates use each other in a cycle: {chain}"
            )
            return node
        if template.type != kind:
            message = (
                f"template {_named(template)} is a {template.type} template; here a {kind} template is needed"
            )
            self._problem(source, (*spath, "template", "templateRef"), message)
            return node
        self.resolved_nodes += _size(template.spec)
        if self.resolved_nodes > MAX_RESOLVED_NODES:
            self.too_big = True
            message = (
                f"the templates used here resolve to more than {MAX_RESOLVED_NODES:,} YAML nodes "
                "(templates that use templates several times multiply); use fewer"
            )
            self._problem(source, (*spath, "template", "templateRef"), message)
            return node
        body = copy.deepcopy(template.spec)
        inputs = link.get("templateInputs")
        if inputs is not None and not isinstance(inputs, dict):
            message = "expected a mapping: the template's spec down to its <+input> fields, with their values"
            self._problem(source, (*spath, "template", "templateInputs"), message)
            return node
        # what an earlier use of this template gave it says nothing about this use
        self.provenance = {key: hit for key, hit in self.provenance.items() if key[0] != id(template)}
        if inputs is not None:
            given_at = (*spath, "template", "templateInputs")
            body = self.fill(body, inputs, template, source, given_at, path, ("template", "spec"))
        if kind == "StepGroup":
            wanted = body.pop("stageType", None)
            if wanted is not None and stage_type is not None and wanted != stage_type:
                message = f"template {_named(template)} is for {wanted} stages; this stage is {stage_type}"
                self._problem(source, (*spath, "template", "templateRef"), message)
        inner = body.get("type") if kind == "Stage" else stage_type
        self.origins.spans[path] = (template, ("template", "spec"))
        body = self.walk(body, path, template, ("template", "spec"), (*stack, template), inner)
        resolved: dict[str, Any] = {}
        for key in ("name", "identifier"):  # the use's, also when missing there
            self.origins.spans[(*path, key)] = (source, (*spath, key))
        for key, value in node.items():  # the use's own fields: name, identifier, overrides
            if key != "template" and (kind != "Pipeline" or key not in body):
                self.origins.spans[(*path, key)] = (source, (*spath, key))
                resolved[key] = value
        resolved.update({key: value for key, value in body.items() if key not in resolved})
        return resolved

    # -- finding the version a use names ------------------------------------------------------

    def find(self, link: Mapping[str, Any], source: Source, spath: Path) -> Template | None:
        ref = link.get("templateRef")
        if not isinstance(ref, str) or not ref or is_runtime_input(ref):
            self._problem(source, (*spath, "templateRef"), "expected the identifier of a template")
            return None
        identifier = strip_scope(ref)
        versions = {label: t for (name, label), t in self.templates.items() if name == identifier}
        label = link.get("versionLabel")
        if not versions:
            if identifier not in self.broken:  # its own problems are reported where it is written
                known = sorted({name for name, _ in self.templates})
                close = difflib.get_close_matches(identifier, known, n=1)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; templates: {', '.join(known) or 'none'}"
                )
                self._problem(source, (*spath, "templateRef"), f"template '{ref}' not found{hint}")
            else:
                self.problems.append(
                    Problem(source.where(spath), format_path(spath), "its template did not load")
                )
            return None
        listed = ", ".join(sorted(versions))
        if label is None or label == "":
            stable = self.stable.get(identifier)
            if stable is not None:
                if stable in versions:
                    return versions[stable]
                message = (
                    f"uses the stable version of template '{identifier}', which corral.yaml names as "
                    f"'{stable}' (project.templates.stable); the template has versions {listed}"
                )
                self._problem(source, (*spath, "templateRef"), message)
                return None
            if len(versions) == 1:
                return next(iter(versions.values()))
            message = (
                f"template '{identifier}' has versions {listed} and none is named stable: write "
                f"versionLabel, or name the stable one in corral.yaml (project.templates.stable.{identifier})"
            )
            self._problem(source, (*spath, "templateRef"), message)
            return None
        label = str(label)
        if is_runtime_input(label) or label not in versions:
            message = f"template '{identifier}' has no version '{label}'; its versions: {listed}"
            self._problem(source, (*spath, "versionLabel"), message)
            return None
        return versions[label]

    # -- templateInputs -----------------------------------------------------------------------

    def fill(
        self,
        base: Any,
        given: Any,
        template: Template,
        source: Source,
        gpath: Path,
        rpath: Path,
        tpath: Path,
    ) -> Any:
        """base (the template's spec, at tpath in it) with given's values (written at gpath of
        source) in its <+input> fields; rpath is where base lands in the resolved pipeline."""
        if is_runtime_input(base):
            self._given(template, tpath, source, gpath)
            self.origins.spans[rpath] = self._written(source, gpath)
            self._allowed(base, given, template, source, gpath)
            return given
        if isinstance(base, dict) and isinstance(given, dict):
            out = dict(base)
            for key, value in given.items():
                if key == "templateInputs" and key not in base and "templateRef" in base:
                    # a template used inside the template, written without templateInputs: all
                    # its <+input> fields are open; these values are checked as it resolves
                    self._given(template, (*tpath, key), source, (*gpath, key))
                    out[key] = value
                    continue
                if key not in base:
                    message = f"not in template {_named(template)}: templateInputs only give values to its <+input> fields"
                    self._problem(source, (*gpath, key), message)
                    continue
                out[key] = self.fill(
                    base[key], value, template, source, (*gpath, key), (*rpath, key), (*tpath, key)
                )
            return out
        if isinstance(base, list) and isinstance(given, list):
            out_list = list(base)
            for position, item in enumerate(given):
                index = matching_index(base, item, position)
                if index is None:
                    self._problem(
                        source, (*gpath, position), f"matches nothing in template {_named(template)}"
                    )
                    continue
                out_list[index] = self.fill(
                    base[index], item, template, source, (*gpath, position), (*rpath, index), (*tpath, index)
                )
            return out_list
        if given != base:
            message = f"not a run-time input of template {_named(template)} (its value there is {base!r})"
            self._problem(source, gpath, message)
        return base

    def _allowed(self, base: str, given: Any, template: Template, source: Source, gpath: Path) -> None:
        """A fixed value must be one the template's input allows (allowedValues, regex)."""
        if is_runtime_input(given) or (isinstance(given, str) and ("<+" in given or "${" in given)):
            return  # still an input, or an expression: checked when it has a value
        try:
            specs = find_inputs(base)
        except ExpressionError:
            return  # reported where the template's expressions are checked
        for spec in specs:
            try:
                check_input_value(spec, given)
            except ExpressionError as error:
                self._problem(source, gpath, f"{error.detail} (template {_named(template)})")

    # -- problems -------------------------------------------------------------------------------

    def _given(self, template: Template, tpath: Path, source: Source, gpath: Path) -> None:
        """A value for the template at tpath was written at gpath of source (a use's templateInputs)."""
        self.provenance[(id(template), tpath)] = self._written(source, gpath)

    def _written(self, source: Source, parts: Path) -> tuple[Source, Path]:
        """Where what source holds at parts was written: in source itself, or, for a value an
        outer use's templateInputs gave the template, in that use."""
        for size in range(len(parts), 0, -1):
            hit = self.provenance.get((id(source), parts[:size]))
            if hit is not None:
                return hit[0], (*hit[1], *parts[size:])
        return source, parts

    def _problem(self, source: Source, parts: Path, message: str) -> None:
        source, parts = self._written(source, parts)
        self.problems.append(Problem(source.where(parts), format_path(parts), message))

    def _unknown(
        self, node: Mapping[str, Any], allowed: tuple[str, ...], source: Source, spath: Path, what: str
    ) -> None:
        for key in node:
            if key not in allowed:
                message = f"unknown field of {what}; expected one of {', '.join(allowed)}"
                if what != "template":
                    message += " (the rest comes from the template)"
                self._problem(source, (*spath, str(key)), message)


def _size(value: Any) -> int:
    """Scalars, mappings and sequences in value (as yaml_limits counts a document's nodes)."""
    if isinstance(value, dict):
        return 1 + sum(_size(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(item) for item in value)
    return 1


def _named(template: Template) -> str:
    return f"'{template.identifier}' version '{template.version_label}'"


# -- validate: every template alone ------------------------------------------------------------

_CHECKED_AS: dict[str, tuple[str, Any]] = {
    "Step": ("step", StepElement),
    "StepGroup": ("stepGroup", StepElement),
    "Stage": ("stage", StageElement),
}


def template_problems(project: Project) -> list[Problem]:
    """Every template version checked alone, as a use without templateInputs would resolve it
    (its <+input> fields stay stand-ins), and corral.yaml's stable versions."""
    problems: list[Problem] = []
    for template in project.templates.values():
        problems += _alone(project, template)
    for identifier, label in project.settings.project.templates.stable.items():
        versions = sorted(v for name, v in project.templates if name == identifier)
        if label not in versions and identifier not in project.broken:
            path = f"project.templates.stable.{identifier}"
            what = f"its versions: {', '.join(versions)}" if versions else "there is no such template"
            problems.append(
                Problem("corral.yaml", path, f"template '{identifier}' has no version '{label}'; {what}")
            )
    return problems


def _alone(project: Project, template: Template) -> list[Problem]:
    resolver = Resolver(project)
    node = {"name": template.name, "identifier": template.identifier}
    link = {"templateRef": template.identifier, "versionLabel": template.version_label}
    wrapper = _CHECKED_AS.get(template.type, ("pipeline", None))[0]
    resolver.origins.spans[(wrapper,)] = (template, ("template",))
    resolved = resolver.use(
        {**node, "template": link}, template.type, (wrapper,), template, ("template",), (), None
    )
    if resolver.problems:
        return resolver.problems
    if template.type == "Pipeline":
        data, adapter, model = resolved, _adapter("Pipeline", Pipeline), Pipeline
        root = "pipeline"
    else:
        element = _CHECKED_AS[template.type][1]
        data, adapter, model = {wrapper: resolved}, _adapter(template.type, element), element
        root = ""
    try:
        adapter.validate_python(data)
    except ValidationError as error:
        found = problems_from_validation(error, data, root=root, locate=lambda _: "", model=model)
        return resolver.origins.translate(found)
    return []


def _adapter(name: str, model: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        adapter = _ADAPTERS[name] = TypeAdapter(model)
    return adapter


def unwrap_template_inputs(fragment: Any) -> Any:
    """An input set (or inputs file) for a pipeline that uses templates, as Harness writes it (the
    values under `template: templateInputs:` of the stage, step group, step or pipeline), in the
    shape of the resolved pipeline it is laid onto: templateInputs' fields stand in the node."""
    if isinstance(fragment, list):
        return [unwrap_template_inputs(item) for item in fragment]
    if not isinstance(fragment, dict):
        return fragment
    link = fragment.get("template")
    inputs = link.get("templateInputs") if isinstance(link, dict) else None
    out = {
        key: unwrap_template_inputs(value)
        for key, value in fragment.items()
        if not (key == "template" and isinstance(inputs, dict))
    }
    if isinstance(inputs, dict):
        for key, value in unwrap_template_inputs(inputs).items():
            out.setdefault(key, value)
    return out
