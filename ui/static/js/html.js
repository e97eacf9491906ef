// The view layer: Preact components written with htm tagged templates, so
// that no build step is needed.
import { h, render, Fragment } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
export { h, render, Fragment };
export { useState, useEffect, useRef, useMemo, useCallback, useReducer, useLayoutEffect } from 'preact/hooks';
