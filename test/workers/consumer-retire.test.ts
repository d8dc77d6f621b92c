// ../daemon/dispatch/consumer-retire.test.ts again, with requests sent from delivery worker threads.
import './force-workers.js';
import '../daemon/dispatch/consumer-retire.test.js';
