'use strict';
// Preloaded (node --require) into the jsii kernel by constructs_lib/gcp/lazy_index.py.
//
// The prebuilt Google provider's lib/index.js is 1,470 lines of the form
//   exports.storageBucket = require("./storage-bucket");
// so loading the package compiles ~100 MB of JavaScript (about 2 s) although
// a stack uses a few dozen submodules. The jsii kernel reaches a type through
// these properties (assembly.closure.storageBucket.StorageBucket), so turning
// each line into a getter that requires on first access loads only what is
// used. Nothing else changes: the same modules, the same code, later.
//
// Only the package index of the npm packages named in LAZY_INDEX_PACKAGES is
// touched, only lines of exactly that form, and only on a Node.js with
// module.registerHooks (22.15+, 23.5+); anywhere else this file does nothing
// and the package loads eagerly, as without it.

const { registerHooks } = require('node:module');

const packages = (process.env.LAZY_INDEX_PACKAGES || '').split(',').filter(Boolean);
const EAGER_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/gm;

// The kernel's node_modules/<name>/lib/index.js, or the jsii package cache's
// <name>/<version>/<digest>/lib/index.js; never a submodule or a dependency.
function isPackageIndex(url) {
  if (!url.endsWith('/lib/index.js')) {
    return false;
  }
  return packages.some((name) => {
    const at = url.lastIndexOf(`/${name}/`);
    return at >= 0 && !url.slice(at).includes('/node_modules/');
  });
}

function lazyExports(source) {
  return source.replace(EAGER_EXPORT, (_, name, path) =>
    `Object.defineProperty(exports, ${JSON.stringify(name)}, ` +
    `{ enumerable: true, configurable: true, get: () => require(${JSON.stringify(path)}) });`);
}

if (typeof registerHooks === 'function' && packages.length > 0) {
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!isPackageIndex(url) || result.source == null) {
        return result;
      }
      return { ...result, source: lazyExports(String(result.source)) };
    },
  });
}
