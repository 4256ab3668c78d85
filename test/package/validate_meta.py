#!/usr/bin/env python3
"""Validate a PGXN META.json against the PGXN Meta Spec 1.0.0, and against the repository.

Usage: validate_meta.py [--repo DIR] [--self-test] META.json

Prints one line per check, "PASS [group] <check>" or "FAIL [group] <check>" followed by
"  - <reason>" lines (group: spec, repo or self-test), and exits 1 when any check failed. Python 3 standard library only.

Checks:
  spec        the document follows the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/): every
              required key, the type and format of every key it defines (SemVer versions, license
              shortcuts or name -> URI objects, the provides structure, prereqs phases and
              relationships with version ranges, resources, tags, no_index, release_status,
              meta-spec version 1.0.0), unknown keys only with an x_ prefix, no duplicate keys.
  --repo DIR  consistency with the extension in DIR: provides names the extension of the
              *.control file, the META version and the provides version equal the control
              file's default_version (read as SemVer: '1.1' is 1.1.0), the provides file and
              docfile exist, and the provides file is the install script of that version.
  --self-test seeded mistakes (a non-SemVer version, a license that is no shortcut, a misspelt
              prereqs phase, an unknown key, a duplicate key, ...) applied to the given document
              must each be rejected, valid variants the spec allows must be accepted, and the
              consistency checks must pass and fail on synthetic repositories as they should.
"""

import copy
import json
import os
import re
import sys
import tempfile
import unicodedata
import urllib.parse

# --- formats -------------------------------------------------------------------------------

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER = (rf"{_NUM}\.{_NUM}\.{_NUM}"
          rf"(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?"
          rf"(?:\+{_BUILD_ID}(?:\.{_BUILD_ID})*)?")
SEMVER_RE = re.compile(rf"^{SEMVER}$")
_OP = r"(?:[=!]=|[<>]=?)"
VERSION_RANGE_RE = re.compile(rf"^(?:{_OP}\s*)?(?:{SEMVER}|0)(?:,\s*(?:{_OP}\s*)?{SEMVER})*$")
META_SPEC_VERSION = "1.0.0"
META_SPEC_URLS = ("https://pgxn.org/meta/spec.txt", "http://pgxn.org/meta/spec.txt")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
    "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
    "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay", "sun",
    "zlib", "open_source", "restricted", "unrestricted", "unknown",
}
PHASES = ("configure", "build", "test", "runtime", "develop")
RELATIONS = ("requires", "recommends", "suggests", "conflicts")
RELEASE_STATUSES = ("stable", "testing", "unstable")
TOP_KEYS = ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec",
            "description", "generated_by", "tags", "no_index", "prereqs", "release_status",
            "resources")
REQUIRED_TOP = ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec")
CUSTOM_KEY_RE = re.compile(r"^[xX]_.")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def is_control(ch):
    return unicodedata.category(ch) == "Cc"


class Validator:
    """Collects every spec violation, each with the JSON path where it occurs."""

    def __init__(self):
        self.errors = []

    def err(self, path, msg):
        self.errors.append(f"{path}: {msg}")

    # scalar types
    def string(self, path, v, min_len=1):
        if not isinstance(v, str):
            self.err(path, f"must be a string, not {type_name(v)}")
            return False
        if len(v) < min_len:
            self.err(path, f"must be at least {min_len} character(s) long")
            return False
        return True

    def term(self, path, v):
        if not self.string(path, v, 2):
            return
        bad = [c for c in v if c in "/\\" or c.isspace() or is_control(c)]
        if bad:
            self.err(path, f"{v!r} is not a Term (no slash, backslash, space or control characters)")

    def semver(self, path, v):
        if self.string(path, v) and not SEMVER_RE.match(v):
            self.err(path, f"{v!r} is not a SemVer version (MAJOR.MINOR.PATCH, e.g. 1.1.0)")

    def version_range(self, path, v):
        if isinstance(v, bool) or (not isinstance(v, str) and v != 0) or isinstance(v, float):
            self.err(path, f"{v!r} is not a version range (a SemVer string, operators, or 0)")
        elif isinstance(v, str) and not VERSION_RANGE_RE.match(v):
            self.err(path, f"{v!r} is not a version range (e.g. \"15.0.0\", \">= 1.2.0, < 2.0.0\" or 0)")

    def uri(self, path, v):
        if not self.string(path, v):
            return
        parts = urllib.parse.urlsplit(v)
        if (not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or "") or any(c.isspace() for c in v)
                or (parts.scheme in ("http", "https") and not parts.netloc)):
            self.err(path, f"{v!r} is not an absolute URI")

    def email(self, path, v):
        if self.string(path, v) and not EMAIL_RE.match(v):
            self.err(path, f"{v!r} is not an email address")

    def relpath(self, path, v):
        if not self.string(path, v, 2):
            return
        p = v[2:] if v.startswith("./") else v
        parts = p.split("/")
        if v.startswith("/") or "\\" in v or re.match(r"^[A-Za-z]:", v):
            self.err(path, f"{v!r} must be a relative path in Unix convention")
        elif ".." in parts or "." in parts or "" in parts[:-1]:
            self.err(path, f"{v!r} must not contain '.', '..' or empty components")

    # structures
    def obj(self, path, v, known, required=(), any_of=(), custom=True):
        """Checks an object: its type, unknown keys, required keys and 'at least one of'."""
        if not isinstance(v, dict):
            self.err(path, f"must be an object, not {type_name(v)}")
            return False
        for k in v:
            if k not in known and not (custom and CUSTOM_KEY_RE.match(k)):
                hint = " (custom keys need an x_ prefix)" if custom else ""
                self.err(f"{path}.{k}", f"unknown key{hint}")
        for k in required:
            if k not in v:
                self.err(path, f"required key {k!r} is missing")
        if any_of and not any(k in v for k in any_of):
            self.err(path, f"needs at least one of {', '.join(any_of)}")
        return True

    def string_or_list(self, path, v, item_check):
        if isinstance(v, list):
            if not v:
                self.err(path, "must not be an empty list")
            for i, item in enumerate(v):
                item_check(f"{path}[{i}]", item)
            self.unique(path, v)
        else:
            item_check(path, v)

    def unique(self, path, items):
        seen = []
        for item in items:
            if item in seen:
                self.err(path, f"{item!r} is listed more than once")
            seen.append(item)

    def document(self, meta):
        if not self.obj("$", meta, TOP_KEYS, REQUIRED_TOP):
            return
        if "name" in meta:
            self.term("$.name", meta["name"])
        if "version" in meta:
            self.semver("$.version", meta["version"])
        for k in ("abstract", "description", "generated_by"):
            if k in meta:
                self.string(f"$.{k}", meta[k])
        if "maintainer" in meta:
            self.string_or_list("$.maintainer", meta["maintainer"], self.string)
        if "license" in meta:
            self.license("$.license", meta["license"])
        if "provides" in meta:
            self.provides("$.provides", meta["provides"])
        if "meta-spec" in meta:
            self.meta_spec("$.meta-spec", meta["meta-spec"])
        if "prereqs" in meta:
            self.prereqs("$.prereqs", meta["prereqs"])
        if "tags" in meta:
            self.tags("$.tags", meta["tags"])
        if "no_index" in meta:
            self.no_index("$.no_index", meta["no_index"])
        if "release_status" in meta and meta["release_status"] not in RELEASE_STATUSES:
            self.err("$.release_status", f"{meta['release_status']!r} is not one of {', '.join(RELEASE_STATUSES)}")
        if "resources" in meta:
            self.resources("$.resources", meta["resources"])

    def license(self, path, v):
        def shortcut(p, item):
            if not isinstance(item, str) or item not in LICENSES:
                self.err(p, f"{item!r} is not a PGXN license shortcut (e.g. postgresql, mit, apache_2_0);"
                            " other licenses need the object form {\"Name\": \"https://...\"}")
        if isinstance(v, dict):
            if not v:
                self.err(path, "must name at least one license")
            for name, url in v.items():
                if not name:
                    self.err(path, "license names must not be empty")
                self.uri(f"{path}.{name}", url)
        else:
            self.string_or_list(path, v, shortcut)

    def provides(self, path, v):
        if not isinstance(v, dict):
            self.err(path, f"must be an object, not {type_name(v)}")
            return
        if not v:
            self.err(path, "must list at least one extension")
        for ext, info in v.items():
            p = f"{path}.{ext}"
            self.term(f"{path} key", ext)
            if not self.obj(p, info, ("file", "version", "abstract", "docfile", "docpath"), ("file", "version")):
                continue
            if "file" in info:
                self.relpath(f"{p}.file", info["file"])
            if "docfile" in info:
                self.relpath(f"{p}.docfile", info["docfile"])
            if "version" in info:
                self.semver(f"{p}.version", info["version"])
            for k in ("abstract", "docpath"):
                if k in info:
                    self.string(f"{p}.{k}", info[k])

    def meta_spec(self, path, v):
        if not self.obj(path, v, ("version", "url"), ("version",)):
            return
        if "version" in v and v["version"] != META_SPEC_VERSION:
            self.err(f"{path}.version", f"{v['version']!r}: this validator checks Meta Spec {META_SPEC_VERSION}")
        if "url" in v and v["url"] not in META_SPEC_URLS:
            self.err(f"{path}.url", f"{v['url']!r} is not {META_SPEC_URLS[0]}")

    def prereqs(self, path, v):
        if not self.obj(path, v, PHASES, any_of=PHASES):
            return
        for phase in PHASES:
            if phase not in v:
                continue
            pp = f"{path}.{phase}"
            if not self.obj(pp, v[phase], RELATIONS, any_of=RELATIONS):
                continue
            for rel in RELATIONS:
                if rel not in v[phase]:
                    continue
                rp = f"{pp}.{rel}"
                deps = v[phase][rel]
                if not isinstance(deps, dict):
                    self.err(rp, f"must be an object mapping names to version ranges, not {type_name(deps)}")
                    continue
                if not deps:
                    self.err(rp, "must name at least one prerequisite")
                for name, rng in deps.items():
                    self.term(f"{rp} key", name)
                    self.version_range(f"{rp}.{name}", rng)

    def tags(self, path, v):
        if not isinstance(v, list):
            self.err(path, f"must be a list, not {type_name(v)}")
            return
        if not v:
            self.err(path, "must not be empty")
        for i, tag in enumerate(v):
            if not self.string(f"{path}[{i}]", tag, 2):
                continue
            if len(tag) > 255 or any(c in "/\\" or is_control(c) for c in tag):
                self.err(f"{path}[{i}]", f"{tag!r} is not a tag (2-255 characters, no slash, backslash or control characters)")
        self.unique(path, v)

    def no_index(self, path, v):
        if not self.obj(path, v, ("file", "directory"), any_of=("file", "directory")):
            return
        for k in ("file", "directory"):
            if k in v:
                self.string_or_list(f"{path}.{k}", v[k], self.relpath)

    def resources(self, path, v):
        if not self.obj(path, v, ("homepage", "bugtracker", "repository"),
                        any_of=("homepage", "bugtracker", "repository")):
            return
        if "homepage" in v:
            self.uri(f"{path}.homepage", v["homepage"])
        if "bugtracker" in v:
            bt = v["bugtracker"]
            if self.obj(f"{path}.bugtracker", bt, ("web", "mailto"), any_of=("web", "mailto")):
                if "web" in bt:
                    self.uri(f"{path}.bugtracker.web", bt["web"])
                if "mailto" in bt:
                    self.email(f"{path}.bugtracker.mailto", bt["mailto"])
        if "repository" in v:
            repo = v["repository"]
            rp = f"{path}.repository"
            if self.obj(rp, repo, ("url", "web", "type")):
                if not ("web" in repo or ("url" in repo and "type" in repo)):
                    self.err(rp, "needs web, or url together with type")
                for k in ("url", "web"):
                    if k in repo:
                        self.uri(f"{rp}.{k}", repo[k])
                if "type" in repo and self.string(f"{rp}.type", repo["type"]) \
                        and not re.match(r"^[a-z]+$", repo["type"]):
                    self.err(f"{rp}.type", f"{repo['type']!r} must be a lowercase VCS name such as git")


def type_name(v):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def parse_json(text):
    """json.loads, but duplicate keys and NaN/Infinity are errors (plain json accepts both)."""
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError(f"duplicate key {k!r}")
            obj[k] = v
        return obj

    def constant(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


def spec_errors(text):
    try:
        meta = parse_json(text)
    except ValueError as e:
        return [f"not valid JSON: {e}"], None
    v = Validator()
    v.document(meta)
    return v.errors, meta


# --- consistency with the repository ---------------------------------------------------------

def read_control(path):
    """Parses a PostgreSQL extension control file: name = value, the value optionally quoted
    ('' is a quote inside quotes), # starts a comment outside quotes."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^\s#']+)\s*(?:#.*)?$", line)
            if m:
                v = m.group(2)
                values[m.group(1)] = v[1:-1].replace("''", "'") if v.startswith("'") else v
    return values


def as_semver(pg_version):
    """An extension version as SemVer: '1.1' -> '1.1.0', '2' -> '2.0.0', '1.1.0' unchanged."""
    if SEMVER_RE.match(pg_version):
        return pg_version
    m = re.match(r"^(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$", pg_version)
    if m:
        return f"{m.group(1)}.{m.group(2) or 0}.0"
    return None


def repo_checks(meta, repo):
    """Returns [(check, [reasons])]: an empty reason list means the check passed."""
    results = []
    controls = sorted(f for f in os.listdir(repo) if f.endswith(".control"))
    if len(controls) != 1:
        return [("the repository has exactly one extension control file", [f"found {controls or 'none'}"])]
    ext = controls[0][:-len(".control")]
    control = read_control(os.path.join(repo, controls[0]))
    default = control.get("default_version")
    provides = meta.get("provides") if isinstance(meta.get("provides"), dict) else {}
    info = provides.get(ext) if isinstance(provides.get(ext), dict) else {}

    results.append((f"provides lists the extension {ext} of {controls[0]}",
                    [] if ext in provides else [f"provides lists {sorted(provides)}"]))
    want = as_semver(default) if isinstance(default, str) else None
    why = (f"{controls[0]} has no default_version" if default is None else
           f"{controls[0]} default_version {default!r} cannot be read as SemVer" if want is None else None)
    for label, got in (("META version", meta.get("version")),
                       (f"provides.{ext}.version", info.get("version"))):
        reasons = [why] if why else ([] if got == want else
                                     [f"{label} is {got!r}, {controls[0]} says default_version = '{default}' "
                                      f"(SemVer {want})"])
        results.append((f"{label} matches {controls[0]} default_version", reasons))

    f = info.get("file")
    if isinstance(f, str):
        # The current version's script is assembled by make from sql/src/ (sql/assemble.sh).
        assembled = os.path.isfile(os.path.join(repo, "sql", "assemble.sh")) and os.path.isdir(os.path.join(repo, "sql", "src"))
        results.append((f"provides file {f} exists",
                        [] if os.path.isfile(os.path.join(repo, f)) or assembled else [f"{f} is not in {repo}"]))
        m = re.match(rf"^sql/{re.escape(ext)}--([^-]+)\.sql$", f)
        ver = m and as_semver(m.group(1))
        results.append((f"provides file {f} is the install script of version {info.get('version')}",
                        [] if ver and ver == info.get("version") else
                        [f"expected sql/{ext}--<version>.sql with <version> = {info.get('version')}"]))
    else:
        results.append(("provides file exists", [f"provides.{ext}.file is missing"]))
    d = info.get("docfile")
    if isinstance(d, str):
        results.append((f"provides docfile {d} exists",
                        [] if os.path.isfile(os.path.join(repo, d)) else [f"{d} is not in {repo}"]))
    return results


# --- self-test ---------------------------------------------------------------------------------

def mutations(meta):
    """(description, mutated document text) pairs: each one is a real mistake."""
    ext = next(iter(meta.get("provides", {"x": {}})))

    def m(desc, fn):
        doc = copy.deepcopy(meta)
        fn(doc)
        return desc, json.dumps(doc)

    out = []
    for k in REQUIRED_TOP:
        out.append(m(f"missing {k}", lambda d, k=k: d.pop(k, None)))
    out += [
        m("version '1.1' (not SemVer)", lambda d: d.update(version="1.1")),
        m("version 'v1.1.0'", lambda d: d.update(version="v1.1.0")),
        m("version 1.1 as a number", lambda d: d.update(version=1.1)),
        m("version '1.01.0' (leading zero)", lambda d: d.update(version="1.01.0")),
        m("name with a space", lambda d: d.update(name="deleted record")),
        m("name of one character", lambda d: d.update(name="d")),
        m("empty abstract", lambda d: d.update(abstract="")),
        m("maintainer empty list", lambda d: d.update(maintainer=[])),
        m("maintainer as an object", lambda d: d.update(maintainer={"name": "x"})),
        m("license 'PostgreSQL' (no such shortcut)", lambda d: d.update(license="PostgreSQL")),
        m("license 'gpl' (no such shortcut)", lambda d: d.update(license=["gpl"])),
        m("license object with a non-URI", lambda d: d.update(license={"PostgreSQL": "see LICENSE"})),
        m("license empty object", lambda d: d.update(license={})),
        m("provides empty", lambda d: d.update(provides={})),
        m("provides as a list", lambda d: d.update(provides=[ext])),
        m("provides entry without file", lambda d: d["provides"][ext].pop("file", None)),
        m("provides entry without version", lambda d: d["provides"][ext].pop("version", None)),
        m("provides version '1.1'", lambda d: d["provides"][ext].update(version="1.1")),
        m("provides file '../x.sql'", lambda d: d["provides"][ext].update(file="../x.sql")),
        m("provides file absolute", lambda d: d["provides"][ext].update(file="/usr/share/x.sql")),
        m("provides file with backslashes", lambda d: d["provides"][ext].update(file="sql\\x.sql")),
        m("provides entry with unknown key 'docs'", lambda d: d["provides"][ext].update(docs="README.md")),
        m("provides name with a slash", lambda d: d.update(provides={"a/b": d["provides"][ext]})),
        m("meta-spec version 2.0.0", lambda d: d.update({"meta-spec": {"version": "2.0.0"}})),
        m("meta-spec without version", lambda d: d.update({"meta-spec": {"url": META_SPEC_URLS[0]}})),
        m("meta-spec as a string", lambda d: d.update({"meta-spec": "1.0.0"})),
        m("meta-spec url elsewhere", lambda d: d["meta-spec"].update(url="https://example.com/spec")),
        m("meta-spec unknown key", lambda d: d["meta-spec"].update(spec="1.0.0")),
        m("unknown top-level key 'homepage'", lambda d: d.update(homepage="https://example.com/")),
        m("unknown top-level key 'keywords'", lambda d: d.update(keywords=["x"])),
        m("custom key 'x_' with nothing after the prefix", lambda d: d.update(x_=1)),
        m("prereqs phase 'run-time'", lambda d: d.update(prereqs={"run-time": {"requires": {"PostgreSQL": "15.0.0"}}})),
        m("prereqs relation 'require'", lambda d: d.update(prereqs={"runtime": {"require": {"PostgreSQL": "15.0.0"}}})),
        m("prereqs version '15'", lambda d: d.update(prereqs={"runtime": {"requires": {"PostgreSQL": "15"}}})),
        m("prereqs version 15 as a number", lambda d: d.update(prereqs={"runtime": {"requires": {"PostgreSQL": 15}}})),
        m("prereqs version true", lambda d: d.update(prereqs={"runtime": {"requires": {"plpgsql": True}}})),
        m("prereqs range '>= 15.0.0 < 16.0.0' (no comma)",
          lambda d: d.update(prereqs={"runtime": {"requires": {"PostgreSQL": ">= 15.0.0 < 16.0.0"}}})),
        m("prereqs empty phase", lambda d: d.update(prereqs={"runtime": {}})),
        m("prereqs empty", lambda d: d.update(prereqs={})),
        m("prereqs requires as a list", lambda d: d.update(prereqs={"runtime": {"requires": ["PostgreSQL"]}})),
        m("tags empty", lambda d: d.update(tags=[])),
        m("tag of one character", lambda d: d.update(tags=["a"])),
        m("tag with a slash", lambda d: d.update(tags=["json/jsonb"])),
        m("duplicate tags", lambda d: d.update(tags=["audit", "audit"])),
        m("tags as a string", lambda d: d.update(tags="audit")),
        m("release_status 'final'", lambda d: d.update(release_status="final")),
        m("resources empty", lambda d: d.update(resources={})),
        m("resources repository url without type",
          lambda d: d.update(resources={"repository": {"url": "https://example.com/r.git"}})),
        m("resources homepage not a URI", lambda d: d.update(resources={"homepage": "example.com"})),
        m("resources bugtracker mailto not an email",
          lambda d: d.update(resources={"bugtracker": {"mailto": "bugs at example.com"}})),
        m("no_index with '..'", lambda d: d.update(no_index={"directory": ["../test"]})),
        m("top level is a list", lambda d: None),
    ]
    out[-1] = ("top level is a list", json.dumps([meta]))
    text = json.dumps(meta, indent=2)
    out.append(("duplicate key in the text", text.replace('"name":', '"name": "x", "name":', 1)))
    out.append(("NaN in the text", text.replace('"release_status"', '"x_n": NaN, "release_status"', 1)))
    out.append(("trailing comma", text.rstrip().rstrip("}") + ",}"))
    return out


def variants(meta):
    """(description, document text) pairs the spec allows: the check must not be stricter."""
    ext = next(iter(meta.get("provides", {"x": {}})))

    def m(desc, fn):
        doc = copy.deepcopy(meta)
        fn(doc)
        return desc, json.dumps(doc)
    return [
        m("license as an object of name -> URL",
          lambda d: d.update(license={"PostgreSQL": "https://www.postgresql.org/about/licence"})),
        m("license as a list of shortcuts", lambda d: d.update(license=["postgresql", "mit"])),
        m("maintainer as a list", lambda d: d.update(maintainer=["A <a@example.com>", "B"])),
        m("pre-release and build versions", lambda d: d.update(version="1.1.0-beta.2+build.7")),
        m("version ranges with operators, '0' and 0", lambda d: d.update(prereqs={
            "runtime": {"requires": {"PostgreSQL": ">= 15.0.0, != 15.1.0, < 17.0.0", "plpgsql": 0},
                        "recommends": {"pgTAP": "0"}},
            "test": {"suggests": {"pgTAP": "==1.3.0"}}, "x_note": "custom"})),
        m("only the required keys", lambda d: [d.pop(k) for k in list(d) if k not in REQUIRED_TOP]),
        m("meta-spec with the http URL", lambda d: d.update({"meta-spec": {"version": "1.0.0", "url": META_SPEC_URLS[1]}})),
        m("resources with homepage, bugtracker and repository", lambda d: d.update(resources={
            "homepage": "https://example.com/", "x_chat": "irc://example.com/#x",
            "bugtracker": {"web": "https://example.com/issues", "mailto": "bugs@example.com"},
            "repository": {"url": "https://example.com/r.git", "web": "https://example.com/r", "type": "git"}})),
        m("no_index with a file and a directory list", lambda d: d.update(no_index={"file": "src/x.c", "directory": ["test", "scripts"]})),
        m("X_ custom keys at every level", lambda d: (d.update(X_top=1), d["provides"][ext].update(x_more=[1]),
                                                      d["meta-spec"].update(x_y=True))),
        m("provides file with a ./ prefix", lambda d: d["provides"][ext].update(file="./" + d["provides"][ext]["file"])),
    ]


def self_test(meta):
    """Returns [(check, [reasons])] for the seeded mistakes and the synthetic repositories."""
    results = []
    muts = mutations(meta)
    accepted = [desc for desc, text in muts if not spec_errors(text)[0]]
    results.append((f"the spec check rejects each of {len(muts)} seeded mistakes",
                    [f"accepted: {d}" for d in accepted]))
    good = variants(meta)
    rejected = [f"rejected: {d}: {spec_errors(text)[0]}" for d, text in good if spec_errors(text)[0]]
    results.append((f"the spec check accepts {len(good)} valid variants (it is not stricter than the spec)", rejected))

    # Consistency checks on synthetic repositories: one that matches, and three that do not.
    ext = next(iter(meta["provides"]))
    ver = meta["provides"][ext]["version"]
    major, minor, patch = ver.split("-")[0].split("+")[0].split(".")
    pg_ver = f"{major}.{minor}" if patch == "0" else f"{major}.{minor}.{patch}"
    cases = [
        ("a repository at this version passes every consistency check", pg_ver, True, True),
        ("an older default_version fails the version checks", f"{int(major) + 1}.0", True, False),
        ("a missing install script fails the file check", pg_ver, False, False),
    ]
    for desc, control_ver, with_file, expect_pass in cases:
        with tempfile.TemporaryDirectory() as repo:
            with open(os.path.join(repo, f"{ext}.control"), "w") as f:
                f.write(f"# test\ncomment = 'x # y'\ndefault_version = '{control_ver}'\nrelocatable = false\n")
            os.makedirs(os.path.join(repo, os.path.dirname(meta["provides"][ext]["file"]) or "."), exist_ok=True)
            if with_file:
                open(os.path.join(repo, meta["provides"][ext]["file"]), "w").close()
            doc = meta["provides"][ext].get("docfile")
            if doc:
                open(os.path.join(repo, doc), "w").close()
            failed = [c for c, reasons in repo_checks(meta, repo) if reasons]
            ok = not failed if expect_pass else bool(failed)
            results.append((desc, [] if ok else [f"failed checks: {failed or 'none'}"]))
    return results


def main(argv):
    repo = None
    selftest = False
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--repo" and i + 1 < len(argv):
            repo = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--self-test":
            selftest = True
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(argv[i])
        i += 1
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        text = f.read()
    errors, meta = spec_errors(text)
    results = [("spec", f"{os.path.basename(args[0])} conforms to the PGXN Meta Spec {META_SPEC_VERSION}", errors)]
    if meta is not None and isinstance(meta, dict):
        if repo:
            results += [("repo", c, r) for c, r in repo_checks(meta, repo)]
        if selftest:
            if errors:
                results.append(("self-test", "self-test", ["skipped: the document itself is invalid"]))
            else:
                results += [("self-test", c, r) for c, r in self_test(meta)]
    failed = 0
    for group, check, reasons in results:
        print(("FAIL " if reasons else "PASS ") + f"[{group}] {check}")
        for r in reasons:
            print(f"  - {r}")
        failed += bool(reasons)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
