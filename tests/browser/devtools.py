"""A second DevTools connection to the test's Chromium, for what Selenium's ``execute_cdp_cmd`` cannot do: wait for
events (the service worker's registration, a response's body) and talk to targets other than the page (the service
worker itself). It connects to the browser's own DevTools websocket, the one chromedriver uses."""

import contextlib
import itertools
import json
import time
from urllib.request import urlopen

import websocket


class DevTools:
    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urlopen(f"http://{address}/json/version") as answer:
            url = json.load(answer)["webSocketDebuggerUrl"]
        self.socket = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.sessions: dict[str, str] = {}

    def close(self) -> None:
        self.socket.close()

    def send(self, method: str, params: dict | None = None, *, session: str | None = None) -> dict:
        number = next(self.ids)
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.settimeout(10)
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == number:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def event(self, method: str, matches=lambda params: True, seconds: float = 10) -> dict:
        """The first event ``method`` whose params ``matches``, already received or arriving within ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            for event in self.events:
                if event.get("method") == method and matches(event["params"]):
                    self.events.remove(event)
                    return event["params"]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} event within {seconds} s")
            self.socket.settimeout(left)
            with contextlib.suppress(websocket.WebSocketTimeoutException):
                self.events.append(json.loads(self.socket.recv()))

    def attach(self, kind: str, url_part: str) -> str:
        """A session on the first target of ``kind`` ("page", "service_worker") whose URL holds ``url_part``; the
        same session each time for the same target, since what a session sets (network emulation) is its own."""
        for target in self.send("Target.getTargets")["targetInfos"]:
            if target["type"] == kind and url_part in target["url"]:
                if target["targetId"] not in self.sessions:
                    self.sessions[target["targetId"]] = self.send(
                        "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
                return self.sessions[target["targetId"]]
        raise LookupError(f"no {kind} target at {url_part}")

    def evaluate(self, session: str, expression: str):
        """The value of ``expression`` (awaited when a promise) in the target of ``session``."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")
