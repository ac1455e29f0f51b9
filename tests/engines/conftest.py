"""Fixtures of the Firefox and WebKitGTK tests: one capture server (also the browsers'
proxy), one Firefox and one Xvfb for the session, started only when a test needs them,
and a fresh visitor per test. A test that asks for `engine` runs once per engine; the
marker `cannot(webkit="why")` skips it, with that reason, where the driver cannot make its
gesture. After each test, every console error or page error of its visitors fails it,
unless the same page without xdlink gives the same error (see `baseline`)."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.harness import NODE_MODULES, SDK, Sites, require
from tests.engines.console import unexplained_errors
from tests.engines.driver import Driver
from tests.engines.firefox import FIREFOX, Firefox
from tests.engines.server import EngineServer
from tests.engines.webkit import DRIVER, WebKitDriver, Xvfb, minibrowser
from tools.capture import serving

ENGINES = ("firefox", "webkit")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cannot(engine=reason): the driver of that engine cannot make the gesture"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("cannot")
    cannot: dict[str, str] = marker.kwargs if marker else {}
    params = [
        pytest.param(name, marks=pytest.mark.skip(reason=f"{name}: {cannot[name]}"))
        if name in cannot
        else name
        for name in ENGINES
    ]
    metafunc.parametrize("engine", params, indirect=True)


@pytest.fixture(scope="session")
def engine_server() -> Iterator[EngineServer]:
    with serving(EngineServer()) as server:
        yield server


@pytest.fixture
def sites(engine_server: EngineServer, tmp_path: Path) -> Iterator[Sites]:
    require(
        (NODE_MODULES / SDK / "dist" / "mixpanel.min.js").exists(),
        "js/node_modules is missing: run `npm ci` in js/",
    )
    engine_server.capture.reset()
    yield Sites(engine_server, tmp_path / "sites")
    engine_server.capture.reset()


@pytest.fixture(scope="session")
def firefox(engine_server: EngineServer) -> Iterator[Firefox]:
    require(FIREFOX.exists(), f"no Firefox at {FIREFOX}: apt-get install -y firefox-esr")
    require(
        importlib.util.find_spec("websockets") is not None,
        "the websockets package is missing: pip install -e '.[dev]'",
    )
    browser = Firefox(engine_server.port)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def xvfb() -> Iterator[Xvfb]:
    missing = "apt-get install -y webkit2gtk-driver xvfb xauth"
    require(DRIVER.exists() and minibrowser() is not None, f"no WebKitWebDriver: {missing}")
    require(shutil.which("Xvfb") is not None, f"no Xvfb: {missing}")
    require(
        importlib.util.find_spec("selenium") is not None,
        "the selenium package is missing: pip install -e '.[dev]'",
    )
    server = Xvfb()
    yield server
    server.stop()


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def new_visitor(
    request: pytest.FixtureRequest, engine: str, engine_server: EngineServer
) -> Callable[[], Driver]:
    """Makes a visitor of the test's engine, which the caller closes."""
    browser = request.getfixturevalue("firefox" if engine == "firefox" else "xvfb")

    def visitor() -> Driver:
        if isinstance(browser, Firefox):
            return browser.visitor()
        return WebKitDriver(browser.display, engine_server)

    return visitor


@pytest.fixture
def visitors(new_visitor: Callable[[], Driver], sites: Sites) -> Iterator[Callable[[], Driver]]:
    """Makes visitors of the test's engine; checks their consoles when the test is done."""
    made: list[Driver] = []

    def make() -> Driver:
        made.append(new_visitor())
        return made[-1]

    yield make
    with contextlib.ExitStack() as closing:  # every visitor is closed, whatever happens
        for driver in made:
            closing.callback(driver.close)
        messages = [message for driver in made for message in driver.messages()]
    errors = [message for message in messages if message.level == "error"]
    unexplained = unexplained_errors(errors, new_visitor, sites)
    assert not unexplained, "console errors:\n" + "\n".join(map(str, unexplained))


@pytest.fixture
def driver(visitors: Callable[[], Driver]) -> Driver:
    return visitors()
