export const PACKAGE_NAME = '@ragscope/instrumentation';
export const PACKAGE_VERSION = '0.1.0';
