/**
 * Imported first by the files of this folder: every hooksd their suite starts (test/helpers
 * writeConfig) sends its requests from two delivery worker threads, whatever the core count.
 */
process.env.HOOKSD_TEST_DELIVERY_WORKERS = '2';
