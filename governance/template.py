"""Loading CloudFormation templates and viewing their resources.

Inputs are a CDK cloud assembly directory (``manifest.json``), a template file (JSON, or YAML
with short-form tags such as ``!Ref``), or a folder of templates. Bad input raises
:class:`InputError` naming the file and the problem; the CLI prints it as one line.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from governance.intrinsics import ref_target
from governance.reading import (
    CURRENT_LIMITS,
    DEFAULT_LIMITS,
    InputError,
    Limits,
    parse_text,
    read_regular_file,
)

__all__ = ["InputError", "Limits", "Resource", "Template", "load_inputs", "load_template_file"]

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")


# --- parsing -----------------------------------------------------------------------------------

FOR_EACH = "Fn::ForEach::"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"


def parse_template_text(
    text: str, path: str | Path, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Parse JSON or YAML template text; raise :class:`InputError` on malformed input.

    ``Fn::ForEach`` loops (``Transform: AWS::LanguageExtensions``) over a literal collection or a
    parameter's default list are expanded into the resources CloudFormation would create; over
    anything else the loop's fragment is judged once, as written.
    """
    body = parse_text(text, path, limits)
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise InputError(path, "not a CloudFormation template (no Resources mapping)")
    if any(isinstance(k, str) and k.startswith(FOR_EACH) for k in body["Resources"]):
        if not _has_language_extensions(body.get("Transform")):
            raise InputError(
                path, "Fn::ForEach needs Transform: AWS::LanguageExtensions in the template"
            )
        body["Resources"] = _expand_for_each(body["Resources"], body, path)
    for logical_id, res in body["Resources"].items():
        problem = _resource_problem(logical_id, res)
        if problem:
            raise InputError(path, problem)
    return body


def _has_language_extensions(transform: Any) -> bool:
    names = transform if isinstance(transform, list) else [transform]
    return LANGUAGE_EXTENSIONS in names


def _resource_problem(logical_id: Any, res: Any) -> str | None:
    if not isinstance(logical_id, str):
        return f"logical id {logical_id!r} is not a string"
    if not isinstance(res, dict):
        return f"resource {logical_id} is not a mapping"
    rtype = res.get("Type")
    if rtype is None:
        return f"resource {logical_id} has no Type"
    if not isinstance(rtype, str):
        if isinstance(rtype, dict) and len(rtype) == 1:
            tag, value = next(iter(rtype.items()))
            if isinstance(tag, str) and tag.lstrip("!").startswith("Rain::"):
                return (
                    f"resource {logical_id} has Type {tag} {str(value)[:80]}, a Rain module"
                    " CloudFormation does not read (package the template first: rain pkg)"
                )
            if isinstance(tag, str) and tag.startswith("!"):
                return (
                    f"resource {logical_id} has Type {tag} {str(value)[:80]}, a tag CloudFormation"
                    " does not read"
                )
        return f"resource {logical_id} has a Type that is not a string"
    condition = res.get("Condition")
    if condition is not None and not isinstance(condition, str):
        return f"resource {logical_id} has a Condition that is not a string (a condition's name)"
    return None


def _expand_for_each(fragment: dict[Any, Any], body: dict[str, Any], path: str | Path) -> dict:
    """``fragment`` with every ``Fn::ForEach::<name>`` entry replaced by its expansion."""
    out: dict[Any, Any] = {}
    for key, value in fragment.items():
        if not (isinstance(key, str) and key.startswith(FOR_EACH)):
            out[key] = value
            continue
        if not (
            isinstance(value, list)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[2], dict)
        ):
            raise InputError(path, f"{key} is not [identifier, collection, {{key: fragment}}]")
        identifier, collection, template = value
        items = _collection(collection, body)
        if items is None:  # not known before deployment: judge the fragment once, as written
            expanded = [template]
        else:
            expanded = [_substitute(template, identifier, item) for item in items]
        for piece in expanded:
            out.update(_expand_for_each(piece, body, path))
    return out


def _collection(value: Any, body: dict[str, Any]) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        params = body.get("Parameters")
        param = params.get(value["Ref"]) if isinstance(params, dict) else None
        default = param.get("Default") if isinstance(param, dict) else None
        if isinstance(default, str):
            return [v.strip() for v in default.split(",")]
        if isinstance(default, list) and all(isinstance(v, str) for v in default):
            return list(default)
    return None


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, str):
        alnum = re.sub(r"[^A-Za-z0-9]", "", item)
        return value.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", alnum)
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and value.get("Ref") == identifier:
            return item
        return {
            _substitute(k, identifier, item): _substitute(v, identifier, item)
            for k, v in value.items()
        }
    return value


# --- the resource view -------------------------------------------------------------------------


@dataclass(slots=True)
class Resource:
    """One resource as rules see it."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    deletion_policy: Any
    update_replace_policy: Any
    condition: str | None
    template: Template

    @property
    def construct_path(self) -> str | None:
        path = self.metadata.get("aws:cdk:path")
        return path if isinstance(path, str) else None

    @property
    def stack(self) -> str:
        return self.template.name

    def prop(self, *path: str | int, default: Any = None) -> Any:
        """Walk ``Properties`` by keys/indices; ``default`` when any step is missing."""
        node: Any = self.properties
        for step in path:
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return default
                node = node[step]
            else:
                if not isinstance(node, dict) or step not in node:
                    return default
                node = node[step]
        return node


@dataclass
class Template:
    """A parsed template with an index for cross-resource questions."""

    name: str
    path: str
    body: dict[str, Any]
    sha256: str = ""
    environment: str | None = None  # "aws://account/region" from the cloud assembly
    acknowledgements: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    #: The name of the stack that deploys this one as a nested stack; ``None`` at the top level.
    parent: str | None = None
    #: Every template judged in the same run (set by the engine), for rules that count across
    #: stacks (NAT gateways, REST APIs per environment) or follow cross-stack references.
    siblings: list[Template] = field(default_factory=list, repr=False, compare=False)

    @cached_property
    def resources(self) -> dict[str, Resource]:
        out: dict[str, Resource] = {}
        for logical_id, raw in self.body.get("Resources", {}).items():
            props = raw.get("Properties")
            meta = raw.get("Metadata")
            out[logical_id] = Resource(
                logical_id=logical_id,
                type=raw["Type"],
                properties=props if isinstance(props, dict) else {},
                metadata=meta if isinstance(meta, dict) else {},
                deletion_policy=raw.get("DeletionPolicy"),
                update_replace_policy=raw.get("UpdateReplacePolicy"),
                condition=raw.get("Condition"),
                template=self,
            )
        return out

    @property
    def parameters(self) -> dict[str, Any]:
        params = self.body.get("Parameters")
        return params if isinstance(params, dict) else {}

    @property
    def conditions(self) -> dict[str, Any]:
        conds = self.body.get("Conditions")
        return conds if isinstance(conds, dict) else {}

    @cached_property
    def by_type(self) -> dict[str, list[Resource]]:
        index: dict[str, list[Resource]] = {}
        for res in self.resources.values():
            index.setdefault(res.type, []).append(res)
        return index

    @cached_property
    def _referrers(self) -> ReferenceIndex:
        """Every reference the template's resources make, built on the first question that names
        no resource type."""
        return _reference_index(self.resources.values())

    @cached_property
    def _typed_referrers(self) -> dict[str, ReferenceIndex]:
        return {}

    def _referrers_from(self, resource_type: str) -> ReferenceIndex:
        """The references made by the resources of one type, built on the first question about
        that type: rules ask about a few types (stages and flow logs that write to a log group),
        and walking every property of every resource was a tenth of reading a template."""
        index = self._typed_referrers.get(resource_type)
        if index is None:
            index = self._typed_referrers[resource_type] = _reference_index(
                self.of_type(resource_type)
            )
        return index

    def of_type(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])

    def referrers(self, logical_id: str, resource_type: str | None = None) -> list[Resource]:
        """Resources (of ``resource_type``, if given) whose properties name the given logical id
        with ``Ref``, ``Fn::GetAtt`` or ``${...}`` in a ``Fn::Sub``."""
        index = self._referrers if resource_type is None else self._referrers_from(resource_type)
        seen: dict[str, Resource] = {}
        for res, _ in index.get(logical_id, []):
            seen.setdefault(res.logical_id, res)
        return list(seen.values())

    def referrers_at(self, logical_id: str, resource_type: str, path_prefix: str) -> list[Resource]:
        """Like :meth:`referrers`, but only references found under ``path_prefix``."""
        return list(
            {
                res.logical_id: res
                for res, path in self._referrers_from(resource_type).get(logical_id, [])
                if path.startswith(path_prefix)
            }.values()
        )

    def get(self, value: Any) -> Resource | None:
        """The resource a ``Ref``/``GetAtt`` value points at, if it is in this template."""
        target = ref_target(value)
        return self.resources.get(target) if target else None


_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")
#: ``{logical id: [(resource that references it, property path of the reference)]}``.
ReferenceIndex = dict[str, list[tuple[Resource, str]]]


def _reference_index(resources: Iterable[Resource]) -> ReferenceIndex:
    index: ReferenceIndex = {}
    for res in resources:
        try:
            found = _references(res.properties, "Properties")
        except RecursionError:  # only above a --max-depth of about 900
            raise InputError(
                res.template.path, "nested too deeply to judge (--max-depth)"
            ) from None
        for target, path in found:
            index.setdefault(target, []).append((res, path))
    return index


def _references(value: Any, path: str) -> list[tuple[str, str]]:
    """Every logical id that ``value`` names with ``Ref``, ``Fn::GetAtt`` or ``${...}`` in a
    ``Fn::Sub``, each with the property path it is found at, in document order."""
    found: list[tuple[str, str]] = []
    _collect_references(value, path, found)
    return found


def _collect_references(node: Any, where: str, found: list[tuple[str, str]]) -> None:
    # A plain recursive function appending to one list, and a path string only for containers:
    # this walks every property of every resource, and nested generators took half as long again.
    if isinstance(node, dict):
        if len(node) == 1:
            target = ref_target(node)
            if target is not None:
                found.append((target, where))
                return
            if "Fn::Sub" in node:
                arg = node["Fn::Sub"]
                text = (
                    arg
                    if isinstance(arg, str)
                    else (arg[0] if isinstance(arg, list) and arg else "")
                )
                if isinstance(text, str):
                    found.extend((name, where) for name in _SUB_REFERENCE.findall(text))
                if isinstance(arg, list) and len(arg) == 2:
                    _collect_references(arg[1], where, found)
                return
        for key, sub in node.items():
            if isinstance(sub, (dict, list)):
                _collect_references(sub, f"{where}/{key}", found)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            if isinstance(sub, (dict, list)):
                _collect_references(sub, f"{where}/{i}", found)


# --- loading -------------------------------------------------------------------------------------


def load_template_file(
    path: Path, name: str | None = None, limits: Limits | None = None
) -> Template:
    """Read one template file (a regular file within ``limits``)."""
    limits = limits or CURRENT_LIMITS.get()
    raw = read_regular_file(path, limits)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "not a text file (not UTF-8)") from None
    body = parse_template_text(text, path, limits)
    stem = path.name
    for suffix in (".template.json", ".json", ".yaml", ".yml", ".template"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return Template(
        name=name or stem, path=str(path), body=body, sha256=hashlib.sha256(raw).hexdigest()
    )


def is_cloud_assembly(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file()


#: The resource type of a nested stack, and the file name ending CDK gives its template asset.
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"


def nested_template_file(resource: Resource) -> str | None:
    """The file name of the nested template a CDK ``NestedStack`` resource deploys, if any.

    CDK records it as the resource's ``aws:asset:path`` metadata; without asset metadata (an app
    run with ``--no-asset-metadata``, or outside the CDK CLI) the asset hash in ``TemplateURL`` is
    looked up in the asset manifests (``*.assets.json``) beside the template. Only a plain file
    name ending ``.nested.template.json`` is followed, never a path out of the directory.
    """
    if resource.type != NESTED_STACK_TYPE:
        return None
    asset = resource.metadata.get("aws:asset:path")
    if not isinstance(asset, str):
        asset = _asset_from_url(resource)
    if not isinstance(asset, str) or not asset.endswith(NESTED_TEMPLATE_SUFFIX):
        return None
    if Path(asset).name != asset or asset.startswith("."):
        return None
    return asset


_ASSET_HASH = re.compile(r"\b([0-9a-f]{64})\.json\b")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for sub in value.values():
            yield from _strings(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _strings(sub)


def _asset_from_url(resource: Resource) -> str | None:
    hashes = {
        m for text in _strings(resource.prop("TemplateURL")) for m in _ASSET_HASH.findall(text)
    }
    if not hashes:
        return None
    files = _asset_files(str(Path(resource.template.path).parent))
    found = [files[h][0] for h in sorted(hashes) if h in files]
    return found[0] if len(found) == 1 else None


def _asset_files(directory: str) -> dict[str, tuple[str, str]]:
    """``{asset hash: (source path, display name)}`` from the asset manifests in ``directory``."""
    out: dict[str, tuple[str, str]] = {}
    for manifest in sorted(Path(directory).glob("*.assets.json")):
        try:
            data = json.loads(manifest.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        files = data.get("files") if isinstance(data, dict) else None
        for key, entry in (files if isinstance(files, dict) else {}).items():
            source = entry.get("source") if isinstance(entry, dict) else None
            path = source.get("path") if isinstance(source, dict) else None
            if isinstance(path, str):
                name = entry.get("displayName")
                out[str(key)] = (path, name if isinstance(name, str) else "")
    return out


def _nested_name(parent: Template, resource: Resource) -> str:
    """``Parent/Child`` for the nested stack ``Child``: from the construct path, else the asset's
    display name (``Child Nested Stack Template``), else the resource's logical id."""
    path = resource.construct_path or ""
    head, _, tail = path.rpartition("/")
    if head.endswith(".NestedStack") and tail.endswith(".NestedStackResource"):
        child = head[: -len(".NestedStack")].rsplit("/", 1)[-1]
        if child:
            return f"{parent.name}/{child}"
    label = " Nested Stack Template"
    for text in _strings(resource.prop("TemplateURL")):
        for digest in _ASSET_HASH.findall(text):
            _, display = _asset_files(str(Path(parent.path).parent)).get(digest, ("", ""))
            if display.endswith(label) and display[: -len(label)].strip():
                return f"{parent.name}/{display[: -len(label)].strip()}"
    return f"{parent.name}/{resource.logical_id}"


def nested_templates(
    parent: Template,
    errors: list[InputError],
    acknowledgements: dict[str, dict[tuple[str, str], dict[str, Any]]] | None = None,
    _chain: tuple[Path, ...] = (),
) -> list[Template]:
    """The templates of the nested stacks ``parent`` declares, each followed by its own.

    A nested template that is missing, unreadable or that includes itself (directly or through
    its children) is appended to ``errors`` as an :class:`InputError`; the others are still
    returned. Nested templates inherit the parent's environment and take their acknowledgements
    from ``acknowledgements`` (keyed by template file name, as :func:`read_acknowledgements`).
    """
    out: list[Template] = []
    stacks = parent.of_type(NESTED_STACK_TYPE)
    if not stacks:
        return out
    directory = Path(parent.path).parent
    chain = (*_chain, Path(parent.path).resolve())
    for resource in stacks:
        asset = nested_template_file(resource)
        if asset is None:
            continue
        file = directory / asset
        if file.resolve() in chain:
            errors.append(
                InputError(file, f"nested stack {resource.logical_id} includes its own template")
            )
            continue
        try:
            child = load_template_file(file, name=_nested_name(parent, resource))
        except InputError as exc:
            where = f"nested stack {resource.logical_id} of {parent.name}"
            errors.append(InputError(exc.path, f"{exc.problem} ({where})"))
            continue
        child.environment = parent.environment
        child.parent = parent.name
        child.acknowledgements = (acknowledgements or {}).get(asset, {})
        out.append(child)
        out.extend(nested_templates(child, errors, acknowledgements, chain))
    return out


def with_nested(
    templates: list[Template],
    errors: list[InputError],
    acknowledgements: dict[str, dict[tuple[str, str], dict[str, Any]]] | None = None,
) -> list[Template]:
    """``templates``, each followed by the templates of its nested stacks (depth first)."""
    out: list[Template] = []
    for template in templates:
        out.append(template)
        out.extend(nested_templates(template, errors, acknowledgements))
    return out


def _mapping(value: Any, path: Path, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(path, f"not a cloud assembly manifest ({what} is not an object)")
    return value


def _load_assembly(
    directory: Path, templates: list[Template], errors: list[InputError], seen: set[Path]
) -> None:
    """Append the stack templates (and their nested stacks) of one assembly and its stages."""
    here = directory.resolve()
    manifest_path = directory / "manifest.json"
    if here in seen:
        raise InputError(manifest_path, "nested cloud assembly refers back to an enclosing one")
    seen.add(here)
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(manifest_path, f"unreadable cloud assembly manifest ({exc})") from None
    manifest = _mapping(manifest, manifest_path, "the manifest")
    artifacts = manifest.get("artifacts")
    artifacts = _mapping({} if artifacts is None else artifacts, manifest_path, "artifacts")
    acks = read_acknowledgements(directory)
    for artifact_id, raw in artifacts.items():
        artifact = _mapping(raw, manifest_path, f"artifact {artifact_id}")
        kind = artifact.get("type")
        props = artifact.get("properties")
        props = _mapping({} if props is None else props, manifest_path, f"{artifact_id} properties")
        if kind == "aws:cloudformation:stack" and props.get("templateFile"):
            file = props["templateFile"]
            if not isinstance(file, str):
                raise InputError(
                    manifest_path, f"artifact {artifact_id} templateFile is not a name"
                )
            name = props.get("stackName")
            tpl = load_template_file(
                directory / file, name=name if isinstance(name, str) and name else artifact_id
            )
            env = artifact.get("environment")
            tpl.environment = env if isinstance(env, str) else None
            tpl.acknowledgements = acks.get(file, {})
            templates.append(tpl)
            templates.extend(nested_templates(tpl, errors, acks))
        elif kind == "cdk:cloud-assembly" and props.get("directoryName"):
            sub = props["directoryName"]
            if not isinstance(sub, str):
                raise InputError(
                    manifest_path, f"artifact {artifact_id} directoryName is not a name"
                )
            _load_assembly(directory / sub, templates, errors, seen)


def load_cloud_assembly(directory: Path) -> list[Template]:
    """Every stack template of a cloud assembly: nested stage assemblies and nested stacks
    (``AWS::CloudFormation::Stack`` resources deploying ``*.nested.template.json``) included.

    Raises :class:`InputError` for a manifest or validation report of the wrong shape, an
    assembly that includes itself, or a missing or malformed template (the first problem found).
    """
    templates: list[Template] = []
    errors: list[InputError] = []
    _load_assembly(directory, templates, errors, set())
    if errors:
        raise errors[0]
    return templates


def read_acknowledgements(directory: Path) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Acknowledged findings from CDK's ``validation-report.json``.

    Returns ``{template file: {(rule id, logical id): {"reason", "acknowledged_id", ...}}}``;
    ``{}`` when the assembly has no report. A report that is unreadable or of the wrong shape
    raises :class:`InputError`: acknowledgements silently lost would turn into violations.
    """
    report_path = directory / "validation-report.json"
    if not report_path.is_file():
        return {}
    try:
        report = json.loads(report_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(report_path, f"unreadable validation report ({exc})") from None

    def shape(value: Any, kind: type, what: str) -> Any:
        if value is None:
            return kind()
        if not isinstance(value, kind):
            noun = "a list" if kind is list else "an object"
            raise InputError(report_path, f"not a CDK validation report ({what} is not {noun})")
        return value

    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    report = shape(report, dict, "the report")
    for plugin in shape(report.get("pluginReports"), list, "pluginReports"):
        plugin = shape(plugin, dict, "a plugin report")
        for sup in shape(plugin.get("suppressedViolations"), list, "suppressedViolations"):
            sup = shape(sup, dict, "a suppressed violation")
            for construct in shape(sup.get("violatingConstructs"), list, "violatingConstructs"):
                construct = shape(construct, dict, "a violating construct")
                cfn = shape(construct.get("cloudFormationResource"), dict, "cloudFormationResource")
                tpl = Path(str(cfn.get("templatePath", ""))).name
                key = (str(sup.get("ruleName", "")), str(cfn.get("logicalId", "")))
                out.setdefault(tpl, {})[key] = {
                    "plugin": plugin.get("pluginName"),
                    "reason": sup.get("reason"),
                    "acknowledged_id": sup.get("acknowledgedId"),
                    "acknowledged_at": sup.get("acknowledgedAt"),
                }
    return out


def load_inputs(
    paths: list[str | Path], limits: Limits | None = None
) -> tuple[list[Template], list[InputError]]:
    """Load every input; bad ones are returned as errors so the others are still judged.

    The boundary is one input (one file, or one cloud assembly): whatever goes wrong while
    reading it, or while building the indexes rules use, becomes one :class:`InputError` for it.
    Nested stack templates come with their parent (after it), whatever the input: a cloud
    assembly, a folder (a ``*.nested.template.json`` that a parent in the folder deploys is
    loaded once, as its nested stack) or a single template file.
    """
    templates: list[Template] = []
    errors: list[InputError] = []
    token = CURRENT_LIMITS.set(limits or CURRENT_LIMITS.get())
    try:
        for raw in paths:
            path = Path(raw)
            try:
                is_dir = _is_dir(path)  # one stat per input: a run may name thousands of files
                if is_dir and is_cloud_assembly(path):
                    start = len(templates)
                    _load_assembly(path, templates, errors, set())
                    templates[start:] = [prepared(t) for t in templates[start:]]
                elif is_dir:
                    found = _load_folder(path, templates, errors)
                    if not found and not errors:
                        raise InputError(path, "folder holds no CloudFormation template")
                else:
                    tpl = load_template_file(path)
                    templates.extend(prepared(t) for t in with_nested([tpl], errors))
            except InputError as exc:
                errors.append(exc)
            except Exception as exc:  # the boundary: one line for this input, the run goes on
                errors.append(unexpected(path, exc))
    finally:
        CURRENT_LIMITS.reset(token)
    return templates, errors


def _is_dir(path: Path) -> bool:
    """Whether ``path`` is a directory; :class:`InputError` when it does not exist (as
    :meth:`Path.exists` decides it: a dangling link or a loop does not exist)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise InputError(path, "no such file or directory") from None
        raise


def _load_folder(path: Path, templates: list[Template], errors: list[InputError]) -> int:
    """Append every template of a folder (each followed by its nested stacks); returns how many."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TEMPLATE_SUFFIXES))
    found: list[Template] = []
    loaded: set[Path] = set()
    for file in files:
        if file.name in ("manifest.json", "tree.json", "validation-report.json"):
            continue
        if file.name.endswith((".assets.json", ".metadata.json")):
            continue
        if file.name.endswith(NESTED_TEMPLATE_SUFFIX):
            continue  # loaded below, under its parent or on its own
        before = len(errors)
        try:
            group = [prepared(t) for t in with_nested([load_template_file(file)], errors)]
        except InputError as exc:
            errors.append(exc)
            continue
        except Exception as exc:  # the boundary: one line for this file, the run goes on
            errors.append(unexpected(file, exc))
            continue
        found.extend(group)
        loaded.update(Path(one.path).resolve() for one in group)
        loaded.update(Path(e.path).resolve() for e in errors[before:])
    for file in files:
        if file.name.endswith(NESTED_TEMPLATE_SUFFIX) and file.resolve() not in loaded:
            try:
                found.append(prepared(load_template_file(file)))
            except InputError as exc:
                errors.append(exc)
            except Exception as exc:  # the boundary: one line for this file, the run goes on
                errors.append(unexpected(file, exc))
    templates.extend(found)
    return len(found)


def prepared(template: Template) -> Template:
    """``template`` with its resources and their type index built now, inside the input boundary.

    The reference indexes are built when a rule first asks (most runs need only a few types);
    nothing in them can fail on a template that was read within the limits, short of a
    ``--max-depth`` near Python's recursion limit, which a rule then reports as undecidable."""
    template.by_type  # noqa: B018 - builds resources and the type index
    return template


def unexpected(path: str | Path, exc: BaseException) -> InputError:
    """An error nobody foresaw while reading ``path``, as one line naming it."""
    text = " ".join(str(exc).split())[:200] or "(no message)"
    return InputError(path, f"cannot be read ({type(exc).__name__}: {text})")
