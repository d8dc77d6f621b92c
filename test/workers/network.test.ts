// ../e2e/network.test.ts again, with requests sent from delivery worker threads (delivery.workers: 2).
import './force-workers.js';
import '../e2e/network.test.js';
