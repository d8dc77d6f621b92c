/**
 * Imported first by the files of this folder: every hooksd their suite starts (test/helpers
 * writeConfig) sends its requests on the node transport (delivery.transport: node), and the
 * unit suites that read it (delivery-pool) send on it too.
 */
process.env.HOOKSD_TEST_TRANSPORT = 'node';
