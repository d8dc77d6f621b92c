// ../e2e/policy.test.ts again, with requests sent on the node transport (delivery.transport: node).
import './force-transport.js';
import '../e2e/policy.test.js';
