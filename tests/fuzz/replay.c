/* replay.c: runs a fuzz target once over each file named on the command
** line, without libFuzzer, so seeds and kept crashers are regression tests
** in every build (gcc, sanitizers, valgrind). */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData);

int main(int argc, char **argv){
  int i, n = 0;
  for(i=1; i<argc; i++){
    FILE *f = fopen(argv[i], "rb");
    unsigned char *a;
    long sz;
    if( f==0 ){ perror(argv[i]); return 1; }
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    a = malloc(sz ? sz : 1);
    if( a==0 || fread(a, 1, sz, f)!=(size_t)sz ){ fclose(f); free(a); return 1; }
    fclose(f);
    LLVMFuzzerTestOneInput(a, (size_t)sz);
    free(a);
    n++;
  }
  printf("%d passed, 0 failed\n", n);
  return 0;
}
