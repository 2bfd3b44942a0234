"""A loopback stand-in for the few Hugging Face Hub endpoints that ``huggingface_hub`` calls to create a repo, upload
a folder and download a snapshot; the tests point the real client at it (``HF_ENDPOINT``).

It keeps each repo's files in memory, answers every file as a ``regular`` upload (so the client sends it inline in the
commit, neither LFS nor Xet), and logs every request (``requests``) so that a test can say what the client did.

Endpoints:

* ``POST /api/validate-yaml``: the model card's metadata (YAML between ``---`` lines) must parse to a mapping;
  kept in ``validated``;
* ``POST /api/repos/create``: a new model repo (409 when it exists, which ``create_repo(exist_ok=True)`` accepts);
* ``POST /api/models/<repo>/preupload/<rev>``: the upload mode of each file (always ``regular``);
* ``POST /api/models/<repo>/commit/<rev>``: an NDJSON commit (``header``, ``file`` with base64 content,
  ``deletedFile``);
* ``GET /api/models/<repo>[/revision/<rev>]``: the repo's info (``sha``, ``siblings``); 404 ``RepoNotFound``;
* ``GET /api/models/<repo>/tree/<rev>[/<path>]``: the file listing;
* ``HEAD|GET /<repo>/resolve/<rev>/<path>``: a file, with ``X-Repo-Commit`` and ``ETag``.

Bound to 127.0.0.1 on a free port, served from a daemon thread, stopped by :meth:`HubStandIn.stop`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class Repo:
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1] if self.commits else "0" * 40


def _git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


_REPO = r"(?P<repo>[^/]+/[^/]+)"


class HubStandIn:
    """The stand-in server: ``url`` to point the client at, ``repos`` as uploaded, ``requests`` as received."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self.validated: list[dict] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_HEAD(self) -> None:
                standin._handle(self, "HEAD")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-standin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # ---- responses -----------------------------------------------------------------------------------------------

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes | dict | list = b"",
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _not_found(self, handler: BaseHTTPRequestHandler, what: str, head: bool = False) -> None:
        code = "RepoNotFound" if what == "repo" else "EntryNotFound"
        self._reply(handler, 404, {"error": f"{what} not found"}, {"X-Error-Code": code}, head=head)

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, handler.path))
            try:
                self._route(handler, method, path, body)
            except Exception as exc:  # a bug of the stand-in: tell the client, and the test through `unhandled`
                self.unhandled.append((method, f"{handler.path}: {exc!r}"))
                self._reply(handler, 500, {"error": repr(exc)})

    def _route(self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> None:
        head = method == "HEAD"
        if method == "POST" and path == "/api/validate-yaml":
            self._validate_yaml(handler, json.loads(body)["content"])
            return
        if method == "POST" and path == "/api/repos/create":
            payload = json.loads(body or b"{}")
            repo_id = f"{payload.get('organization') or 'user'}/{payload['name']}"
            if payload.get("type", "model") != "model":
                self._reply(handler, 400, {"error": "only model repos here"})
                return
            if repo_id in self.repos:
                self._reply(
                    handler, 409, {"error": "You already created this model repo", "url": self._repo_url(repo_id)}
                )
                return
            self.repos[repo_id] = Repo()
            self._reply(handler, 200, {"url": self._repo_url(repo_id), "name": repo_id, "id": repo_id})
            return
        if method == "POST" and (m := re.fullmatch(rf"/api/models/{_REPO}/preupload/(?P<rev>[^/]+)", path)):
            if m["repo"] not in self.repos:
                self._not_found(handler, "repo")
                return
            files = json.loads(body)["files"]
            answer = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files]
            self._reply(handler, 200, {"files": answer, "commitOid": self.repos[m["repo"]].sha})
            return
        if method == "POST" and (m := re.fullmatch(rf"/api/models/{_REPO}/commit/(?P<rev>[^/]+)", path)):
            repo = self.repos.get(m["repo"])
            if repo is None:
                self._not_found(handler, "repo")
                return
            message = ""
            for line in body.splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                value = item["value"]
                if item["key"] == "header":
                    message = value.get("summary", "")
                elif item["key"] == "file":
                    if value.get("encoding") != "base64":
                        raise ValueError(f"unexpected encoding {value.get('encoding')!r}")
                    repo.files[value["path"]] = base64.b64decode(value["content"])
                elif item["key"] == "deletedFile":
                    repo.files.pop(value["path"], None)
                else:
                    raise ValueError(f"unexpected commit operation {item['key']!r}")
            sha = hashlib.sha1(f"{m['repo']}{len(repo.commits)}{sorted(repo.files)}".encode()).hexdigest()
            repo.commits.append(sha)
            repo.messages.append(message)
            self._reply(
                handler,
                200,
                {"commitUrl": f"{self._repo_url(m['repo'])}/commit/{sha}", "commitOid": sha, "success": True},
            )
            return
        if method in ("GET", "HEAD") and (
            m := re.fullmatch(rf"/api/models/{_REPO}(?:/revision/(?P<rev>[^/]+))?", path)
        ):
            repo = self.repos.get(m["repo"])
            if repo is None or not repo.commits:
                self._not_found(handler, "repo", head)
                return
            siblings = [{"rfilename": name, "size": len(data)} for name, data in sorted(repo.files.items())]
            info = {
                "id": m["repo"],
                "modelId": m["repo"],
                "sha": repo.sha,
                "private": False,
                "disabled": False,
                "gated": False,
                "siblings": siblings,
                "tags": [],
                "downloads": 0,
                "likes": 0,
            }
            self._reply(handler, 200, info, head=head)
            return
        if method == "GET" and (m := re.fullmatch(rf"/api/models/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?", path)):
            repo = self.repos.get(m["repo"])
            if repo is None:
                self._not_found(handler, "repo")
                return
            prefix = (m["sub"] or "").strip("/")
            entries = [
                {"type": "file", "path": name, "size": len(data), "oid": _git_blob_sha(data)}
                for name, data in sorted(repo.files.items())
                if not prefix or name.startswith(prefix + "/")
            ]
            self._reply(handler, 200, entries)
            return
        if method in ("GET", "HEAD") and (m := re.fullmatch(rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path)):
            repo = self.repos.get(m["repo"])
            if repo is None:
                self._not_found(handler, "repo", head)
                return
            data = repo.files.get(m["file"])
            if data is None:
                self._not_found(handler, "entry", head)
                return
            headers = {
                "X-Repo-Commit": repo.sha,
                "ETag": f'"{_git_blob_sha(data)}"',
                "Content-Type": "application/octet-stream",
            }
            self._reply(handler, 200, data, headers, head=head)
            return
        self.unhandled.append((method, path))
        self._reply(handler, 404, {"error": f"the stand-in has no {method} {path}"})

    def _validate_yaml(self, handler: BaseHTTPRequestHandler, content: str) -> None:
        import yaml  # a dependency of huggingface_hub

        match = re.match(r"---\n(.*?)\n---\n", content, re.S)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else None
        except yaml.YAMLError as exc:
            metadata, problem = None, str(exc)
        else:
            problem = "" if isinstance(metadata, dict) else "the metadata is not a YAML mapping between --- lines"
        if problem:
            self._reply(handler, 400, {"errors": [{"message": problem}], "warnings": []})
            return
        self.validated.append(metadata)
        self._reply(handler, 200, {"errors": [], "warnings": []})

    def _repo_url(self, repo_id: str) -> str:
        return f"{self.url}/{repo_id}"
