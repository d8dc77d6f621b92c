// ../daemon/dispatch/consumer-retire.test.ts again, with requests sent on the node transport
// (delivery.transport: node).
import './force-transport.js';
import '../daemon/dispatch/consumer-retire.test.js';
