/* The one import of the vendored library (vendor/README.md): updating it changes this line only. */
export {
  html, render, useCallback, useEffect, useMemo, useRef, useState,
} from "./vendor/htm-3.1.1-preact-standalone.module.js";
