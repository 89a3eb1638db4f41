// Tests read many JSON bodies; let them be `any` there rather than casting at every call.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
export {};
