// ../daemon/dispatch/delivery-pool.test.ts again, with requests sent on the node transport (delivery.transport: node).
import './force-transport.js';
import '../daemon/dispatch/delivery-pool.test.js';
