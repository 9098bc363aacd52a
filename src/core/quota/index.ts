export { dayWindow, minuteWindow, retryAfterSeconds, type QuotaWindow } from './quota-windows.js';
