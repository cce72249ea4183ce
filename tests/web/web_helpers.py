"""Helpers for the review app tests (imported by the fixtures and the tests)."""

from __future__ import annotations

import re
import socket
import threading
import time

PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by `make sysdeps`; Playwright drives it
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROLES = ("admin", "moderator", "triage", "viewer")
HOSTILE_BIO = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"> kik: zz_hostile'


def make_app(web_store, secure_cookies: bool = False):
    """The app on the module's store. TestClient talks plain http://testserver, so Secure cookies are
    off there; the browser tests keep them on (Chromium sends them to http://127.0.0.1)."""
    from netwarden.web.app import create_app

    return create_app(store=web_store["store"], media_roots=[str(web_store["world"])], secure_cookies=secure_cookies)


def login(client, name: str, password: str = PASSWORD) -> str:
    """Sign in with a TestClient; returns the session's CSRF token."""
    r = client.get("/login")
    tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = client.post("/login", data={"username": name, "password": password, "csrf": tok}, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.get("/queue")
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


class LiveServer:
    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the review app did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def browser_login(browser, base_url: str, name: str, password: str = PASSWORD, warnings: bool = False, **context):
    """A new browser context signed in as `name`, on the queue. `page.errors` collects script errors,
    console errors (CSP violations among them; console warnings too with `warnings`) and dialogs."""
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    levels = ("error", "warning") if warnings else ("error",)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.on("console", lambda m: errors.append("console: " + m.text) if m.type in levels else None)
    page.goto(base_url + "/queue")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_url("**/queue")
    page.errors = errors
    return page


def copy_world_store(web_world, tmp_path_factory, name: str, extra_users: dict[str, str]):
    """A private copy of the web world's store with one user per role (named as the role) and
    `extra_users` (name -> role), all with PASSWORD."""
    import shutil

    from netwarden.store import open_store
    from netwarden.web.auth import add_user

    d = tmp_path_factory.mktemp(name)
    db = d / "netwarden.db"
    shutil.copy(web_world["db"], db)
    store = open_store(f"sqlite:///{db}")
    with store.engine.begin() as conn:
        for role in ROLES:
            add_user(conn, role, role, PASSWORD, actor="test")
        for user, role in extra_users.items():
            add_user(conn, user, role, PASSWORD, actor="test")
    return store
