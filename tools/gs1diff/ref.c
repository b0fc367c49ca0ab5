/* The GS1 Syntax Engine side of tools/gs1diff: V<TAB>uri validates a Digital Link (prints its AIs),
 * E<TAB>(01)… renders AI data as a link, A<TAB>(ai)value checks one value without requisite AIs. */
#include <stdio.h>
#include <string.h>
#include "gs1encoders.h"
/* Reads "V<TAB>uri" (validate DL, print AI string) or "E<TAB>(01)..." (element string to DL). */
int main(void) {
  gs1_encoder *ctx = gs1_encoder_init(NULL); gs1_encoder *lone = gs1_encoder_init(NULL); gs1_encoder_setValidationEnabled(lone, gs1_encoder_vREQUISITE_AIS, false);
  char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *in = line + 2;
    if (line[0] == 'V') {
      if (gs1_encoder_setDataStr(ctx, in) && strncmp(in, "http", 4) == 0 && strlen(gs1_encoder_getDataStr(ctx))) {
        char *ai = gs1_encoder_getAIdataStr(ctx);
        printf("OK\t%s\n", ai ? ai : "");
      } else printf("ERR\t%s\n", gs1_encoder_getErrMsg(ctx));
    } else if (line[0] == 'A') {
      if (gs1_encoder_setAIdataStr(lone, in)) printf("OK\t\n"); else printf("ERR\t%s\n", gs1_encoder_getErrMsg(lone));
    } else {
      if (gs1_encoder_setAIdataStr(ctx, in)) {
        char *dl = gs1_encoder_getDLuri(ctx, NULL);
        if (dl) printf("OK\t%s\n", dl); else printf("ERR\t%s\n", gs1_encoder_getErrMsg(ctx));
      } else printf("ERR\t%s\n", gs1_encoder_getErrMsg(ctx));
    }
    fflush(stdout);
  }
  return 0;
}
