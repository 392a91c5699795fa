/**
 * tap's coverage map (.taprc): whatever a test file runs, the report is about src/. Test helpers,
 * scripts and the bundle in dist/ (which the PGlite smoke test starts) are left out.
 */
export default () => 'src/**/*.ts';
