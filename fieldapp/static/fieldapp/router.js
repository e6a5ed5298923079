/* Hash routes (#/callouts/12): the one shell page serves every screen, online or from the service worker's cache. */

import { useEffect, useState } from "./html.js";

function parse() {
  return location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
}

export function useRoute() {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const changed = () => setRoute(parse());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

export function go(path) {
  location.hash = `#/${path}`;
}
