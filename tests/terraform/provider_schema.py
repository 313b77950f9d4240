"""The Terraform providers' schemas, read offline from the CDKTF provider packages on PyPI.

The providers themselves cannot be downloaded on the development machines, so `terraform
validate` cannot run. Each `cdktf-cdktf-provider-*` wheel, though, is generated from one
provider release and holds a jsii assembly (`_jsii/*.jsii.tgz` -> `package/.jsii`, JSON)
describing every resource and data source: a `<Name>Config` struct lists the arguments and
nested blocks. In it:

- a property whose type is a struct is a block that may appear at most once, a property
  typed as a list of structs a repeated block; anything else is an argument;
- a property without ``"optional": true`` is required;
- the Terraform name is the anchor of the registry link in the property's docs
  (``.../docs/resources/storage_bucket#uniform_bucket_level_access``), not a camelCase
  conversion.

The wheels are fetched with pip (pinned, hash-checked) into ``.tools/provider-schemas/``,
reduced to a small JSON per provider, and the wheels deleted; later runs read the JSON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.terraform.hcl import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".tools" / "provider-schemas"
FORMAT = 1  # bump when the distilled JSON changes shape


@dataclass(frozen=True)
class Assembly:
    """One CDKTF provider package: which PyPI release holds which provider's schema."""

    provider: str  # the local name in required_providers, e.g. google-beta
    package: str
    version: str
    sha256: str

    @property
    def cache_file(self) -> Path:
        return CACHE_DIR / f"{self.package}-{self.version}.v{FORMAT}.json"


# The provider releases these packages were generated from are read from the assemblies
# (see ProviderSchema.provider_version); versions.tf pins them (a test checks it).
ASSEMBLIES: dict[str, Assembly] = {
    a.provider: a
    for a in (
        Assembly(
            "google",
            "cdktf-cdktf-provider-google",
            "16.12.1",
            "88d021c89e1cf2abf2c935716d6548d26fe3da4bed30713d4fa36df1ef137436",
        ),
        Assembly(
            "google-beta",
            "cdktf-cdktf-provider-google-beta",
            "16.12.1",
            "6f75be2b8686994fd3074c42f0771df20c928695d88061c265f2cacf74aa5fb1",
        ),
        Assembly(
            "archive",
            "cdktf-cdktf-provider-archive",
            "11.0.1",
            "8842f64850b8ea9c16db6dcf09a1a91edd4cbe860ba8aa836e25f9aa624dd574",
        ),
        Assembly(
            "time",
            "cdktf-cdktf-provider-time",
            "11.0.1",
            "a927bcdf16736d281a0f5640474f8b46cef43c5ff37ee7eca8b79652b5aca134",
        ),
    )
}


@dataclass
class Block:
    """A block body: its arguments (name -> required) and nested blocks."""

    attributes: dict[str, bool] = field(default_factory=dict)
    blocks: dict[str, NestedBlock] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"attributes": self.attributes, "blocks": {k: v.to_json() for k, v in self.blocks.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Block:
        return cls(
            attributes=dict(data["attributes"]),
            blocks={k: NestedBlock.from_json(v) for k, v in data["blocks"].items()},
        )


@dataclass
class NestedBlock:
    required: bool
    max_one: bool
    block: Block

    def to_json(self) -> dict[str, Any]:
        return {"required": self.required, "max_one": self.max_one, "block": self.block.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NestedBlock:
        return cls(required=data["required"], max_one=data["max_one"], block=Block.from_json(data["block"]))


@dataclass
class ProviderSchema:
    name: str
    provider_version: str  # the Terraform provider release the assembly was generated from
    provider: Block
    resources: dict[str, Block]
    data_sources: dict[str, Block]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider_version": self.provider_version,
            "provider": self.provider.to_json(),
            "resources": {k: v.to_json() for k, v in self.resources.items()},
            "data_sources": {k: v.to_json() for k, v in self.data_sources.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProviderSchema:
        return cls(
            name=data["name"],
            provider_version=data["provider_version"],
            provider=Block.from_json(data["provider"]),
            resources={k: Block.from_json(v) for k, v in data["resources"].items()},
            data_sources={k: Block.from_json(v) for k, v in data["data_sources"].items()},
        )


# "Represents a {@link https://registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/storage_bucket google_storage_bucket}."
_REPRESENTS = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/[\w-]+/([\w-]+)/(\d+\.\d+\.\d+)/docs(?:/(resources|data-sources)/\w+)? ([\w-]+)\}"
)
# "... {@link https://registry.terraform.io/providers/hashicorp/google/6.50.0/docs/resources/storage_bucket#location StorageBucket#location}"
_ANCHOR = re.compile(r"\{@link https://registry\.terraform\.io/providers/[^ }]+#([a-z0-9_]+) ")


class AssemblyError(Exception):
    """The assembly does not look as this reader expects (a new jsii or CDKTF layout)."""


def distill(assembly: dict[str, Any], provider: str) -> ProviderSchema:
    """Reduces a jsii assembly to the argument/block structure of each resource and data source."""
    types: dict[str, Any] = assembly["types"]
    resources: dict[str, Block] = {}
    data_sources: dict[str, Block] = {}
    provider_block: Block | None = None
    provider_version = ""
    for fqn, spec in types.items():
        if spec.get("kind") != "class":
            continue
        match = _REPRESENTS.search(spec.get("docs", {}).get("summary", ""))
        if match is None:
            continue
        name, version, kind, tf_name = match.groups()
        if name != provider:
            raise AssemblyError(f"{fqn} documents provider {name}, expected {provider}")
        provider_version = version
        config = _config_type(types, spec, fqn)
        block = _block(types, config, depth=0)
        if kind is None:
            provider_block = block
        elif kind == "resources":
            resources[tf_name] = block
        else:
            data_sources[tf_name] = block
    if provider_block is None or not resources:
        raise AssemblyError(f"no provider class or no resources found for {provider}")
    return ProviderSchema(provider, provider_version, provider_block, resources, data_sources)


def _config_type(types: dict[str, Any], spec: dict[str, Any], fqn: str) -> str:
    """The config struct a resource class takes: its constructor's `config` parameter."""
    for parameter in spec.get("initializer", {}).get("parameters", []):
        if parameter["name"] == "config":
            config: str = parameter["type"]["fqn"]
            if config not in types:
                raise AssemblyError(f"{fqn}: config type {config} is not in the assembly")
            return config
    raise AssemblyError(f"{fqn} has no config parameter")


def _block(types: dict[str, Any], fqn: str, depth: int) -> Block:
    if depth > 20:
        raise AssemblyError(f"{fqn}: blocks nested deeper than 20 levels")
    block = Block()
    for prop in types[fqn].get("properties", []):
        name = _terraform_name(prop, fqn)
        required = not prop.get("optional", False)
        nested = _struct_of(types, prop["type"])
        if nested is None:
            block.attributes[name] = required
        else:
            struct, max_one = nested
            block.blocks[name] = NestedBlock(required, max_one, _block(types, struct, depth + 1))
    return block


def _terraform_name(prop: dict[str, Any], owner: str) -> str:
    """The registry anchor; a few docs lose it (a `*/` in a description ends the comment in the
    generated TypeScript): then the snake_case of the property name, which CDKTF derived from it."""
    anchors = set(_ANCHOR.findall(json.dumps(prop.get("docs", {}))))
    if len(anchors) > 1:
        raise AssemblyError(f"{owner}.{prop['name']}: several registry anchors in its docs: {anchors}")
    return anchors.pop() if anchors else _snake_case(prop["name"])


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _struct_of(types: dict[str, Any], type_ref: dict[str, Any]) -> tuple[str, bool] | None:
    """(struct fqn, at most one) when the property is a block, else None."""
    fqn = type_ref.get("fqn")
    if isinstance(fqn, str) and types.get(fqn, {}).get("datatype"):
        return fqn, True
    for member in type_ref.get("union", {}).get("types", []):
        element = member.get("collection", {}).get("elementtype", {}).get("fqn")
        if isinstance(element, str) and types.get(element, {}).get("datatype"):
            return element, False
    return None


def _read_assembly(wheel: Path) -> dict[str, Any]:
    """`package/.jsii` from the wheel's `_jsii/*.jsii.tgz`, without unpacking anything else."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise AssemblyError(f"{wheel.name}: expected one .jsii.tgz, found {names}")
        with archive.open(names[0]) as tgz, tarfile.open(fileobj=tgz, mode="r|gz") as tar:
            for member in tar:
                if member.name == "package/.jsii":
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        break
                    data: dict[str, Any] = json.load(extracted)
                    return data
    raise AssemblyError(f"{wheel.name}: no package/.jsii in the assembly archive")


def _download(assembly: Assembly, directory: Path) -> Path:
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{assembly.package}=={assembly.version} --hash=sha256:{assembly.sha256}\n")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes"]
    command += ["--only-binary=:all:", "--dest", str(directory), "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"pip could not download {assembly.package}=={assembly.version} (needed to read the "
            f"{assembly.provider} provider schema offline):\n{result.stderr.strip()}"
        )
    (wheel,) = directory.glob("*.whl")
    return wheel


def load(provider: str, *, progress: bool = False) -> ProviderSchema:
    """The schema of one provider, from the cache or fetched and distilled now."""
    assembly = ASSEMBLIES[provider]
    if assembly.cache_file.is_file():
        return ProviderSchema.from_json(json.loads(assembly.cache_file.read_text(encoding="utf-8")))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="provider-schema-") as tmp:
        wheel = _download(assembly, Path(tmp))
        downloaded = time.monotonic()
        schema = distill(_read_assembly(wheel), provider)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = assembly.cache_file.with_suffix(".tmp")
    partial.write_text(json.dumps(schema.to_json(), separators=(",", ":")), encoding="utf-8")
    partial.replace(assembly.cache_file)
    if progress:
        print(
            f"{assembly.package} {assembly.version} (terraform provider {provider} {schema.provider_version}): "
            f"downloaded in {downloaded - started:.1f}s, distilled in {time.monotonic() - downloaded:.1f}s",
            file=sys.stderr,
        )
    return schema


def load_all(*, progress: bool = False) -> dict[str, ProviderSchema]:
    return {name: load(name, progress=progress) for name in ASSEMBLIES}
